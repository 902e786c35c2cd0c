// Opens the drive page at the URL given, sets the speed to 0.5, clicks Forward and prints the
// answer the page shows. Exit code 1 when no answer appears. Run by tests/robot_publisher.rs.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const url = process.argv[2];
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!url) {
  console.error('usage: node drive.mjs URL');
  process.exit(2);
}
if (!existsSync(executablePath)) {
  console.error(`${executablePath} is missing: install Chromium with \`make setup\` as root, or \`sudo apt-get install --no-install-recommends chromium\`, or set CHROMIUM`);
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
  await page.goto(url);
  await page.$eval('#speed', (input) => {
    input.value = '0.5';
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.click('#forward');
  const answer = page.locator('#answers li').first();
  await answer.waitFor({ timeout: 15000 });
  console.log(`answer: ${await answer.textContent()}`);
} catch (error) {
  console.error(`drive page: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
