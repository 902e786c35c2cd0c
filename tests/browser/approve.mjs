// Opens an approval link, writes a comment, clicks Approve and prints the page's answer; reopens
// the link (prints what it says now); opens a tampered link (prints the refusal and its status).
// Exit code 1 when a step fails. Run by crates/approval-worker/tests/browser.rs.
//   node approve.mjs LINK TAMPERED_LINK [SCREENSHOT.png]
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [link, tampered, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!link || !tampered) {
  console.error('usage: node approve.mjs LINK TAMPERED_LINK [SCREENSHOT.png]');
  process.exit(2);
}
if (!existsSync(executablePath)) {
  console.error(`${executablePath} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM`);
  process.exit(2);
}

// As root in a sandbox with no internet: no sandbox, no background connections.
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.on('console', (message) => console.log(`page console: ${message.text()}`));
  const opened = await page.goto(link);
  console.log(`opened: ${opened.status()} ${await page.locator('#result').textContent()}`);
  await page.fill('#comment', 'Well deserved <3');
  await Promise.all([page.waitForNavigation(), page.click('#approve')]);
  console.log(`answer: ${await page.locator('#result').textContent()}`);
  console.log(`decision: ${await page.locator('#decision').textContent()}`);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const again = await page.goto(link);
  console.log(`reopened: ${again.status()} ${await page.locator('#result').textContent()}`);
  console.log(`reopened decision: ${await page.locator('#decision').textContent()}`);
  const refused = await page.goto(tampered);
  console.log(`tampered: ${refused.status()} ${await page.locator('#result').textContent()}`);
  console.log(`tampered buttons: ${await page.locator('button').count()}`);
} catch (error) {
  console.error(`approval page: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
