//! Emulator tests: the real publisher handler, wired to real IoT and iot-data SDK clients, on
//! every sample request in `events/robot-publisher/` against a private moto server. What reached
//! IoT is read back from moto's request recorder (topic, QoS, payload). And the drive page in
//! headless Chromium: the Forward button clicked, the publish found in the recorder.

use fleet_core::HttpHandler;
use fleet_local::drive_server;
use fleet_testkit::{event_files, load_event, workspace_root, Moto, RecordedRequest};
use serde_json::Value;

/// (topic, QoS, JSON payload) of every IoT publish the stand-in received.
fn iot_publishes(recorded: &[RecordedRequest]) -> Vec<(String, u8, Value)> {
    fleet_testkit::iot_publishes(recorded)
        .into_iter()
        .map(|(topic, qos, body)| {
            let payload = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{topic}: {e}"));
            (topic, qos, payload)
        })
        .collect()
}

async fn wire(moto: &Moto) -> robot_publisher::LambdaApp {
    let config = fleet_local::robot_config(moto).await;
    robot_publisher::wire(&moto.sdk_config(), config, fleet_core::Env::system())
        .await
        .unwrap()
}

fn describes(recorded: &[RecordedRequest]) -> usize {
    recorded
        .iter()
        .filter(|r| r.method == "GET" && r.url.contains("/endpoint?endpointType=iot%3AData-ATS"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn sample_requests_publish_to_the_robot_topic_in_the_stand_in() {
    let moto = Moto::start();
    moto.start_recording();
    let app = wire(&moto).await;
    let mut statuses = Vec::new();
    for file in event_files("robot-publisher") {
        let request = lambda_http::request::from_str(&load_event(&file).to_string()).unwrap();
        let response = app.handle(request).await;
        statuses.push((
            file.rsplit('/').next().unwrap().to_owned(),
            response.status().as_u16(),
        ));
    }
    let good: Vec<&str> = statuses
        .iter()
        .filter(|(_, s)| *s == 202)
        .map(|(f, _)| f.as_str())
        .collect();
    assert_eq!(
        good,
        ["01-forward.json", "02-left-slow.json", "03-stop.json"],
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|(f, s)| !f.contains("-bad-") || matches!(s, 400 | 405)),
        "{statuses:?}"
    );

    let recorded = moto.recorded_requests();
    assert_eq!(
        describes(&recorded),
        1,
        "the data endpoint is resolved once per container"
    );
    let sent = iot_publishes(&recorded);
    assert_eq!(sent.len(), 3, "only the good requests publish");
    let actions: Vec<(&str, f64, u64)> = sent
        .iter()
        .map(|(topic, qos, payload)| {
            assert_eq!(topic, "rover/action");
            assert_eq!(*qos, 1);
            (
                payload["action"].as_str().unwrap(),
                payload["speed"].as_f64().unwrap(),
                payload["duration_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("forward", 1.0, 200), ("left", 0.5, 500), ("stop", 0.1, 50)]
    );
    let sequences: Vec<u64> = sent
        .iter()
        .map(|(_, _, p)| p["sequence"].as_u64().unwrap())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    let issued =
        chrono::DateTime::parse_from_rfc3339(sent[0].2["issued_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(sent[0].2["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - issued, chrono::Duration::seconds(3));
}

/// What the browser run needs, each missing piece failing the test with one line saying how to
/// install it (`make setup` installs all three where it can).
fn browser_prerequisites() {
    let chromium = std::env::var_os("CHROMIUM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromium".into());
    assert!(
        chromium.exists(),
        "{} is missing: the drive-page browser test needs Chromium; install it with \
         `make setup` as root, or `sudo apt-get install --no-install-recommends chromium`, \
         or set CHROMIUM to a Chromium binary",
        chromium.display()
    );
    let playwright = workspace_root().join("tests/browser/node_modules/playwright-core");
    assert!(
        playwright.exists(),
        "{} is missing: run `make setup` (npm ci in tests/browser)",
        playwright.display()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_drive_page_in_headless_chromium_publishes_forward() {
    browser_prerequisites();
    let moto = Moto::start();
    moto.start_recording();
    let server = drive_server(wire(&moto).await).await;
    let script = workspace_root().join("tests/browser/drive.mjs");
    let url = format!("{}/", server.url);
    let output = tokio::process::Command::new("node")
        .arg(&script)
        .arg(&url)
        .current_dir(workspace_root().join("tests/browser"))
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "running node {}: {e}: the drive-page browser test needs Node.js; install it \
                 with `make setup` as root, or `sudo apt-get install nodejs npm`",
                script.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("202 forward: rover/action sequence "),
        "{stdout}"
    );

    let sent = iot_publishes(&moto.recorded_requests());
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "rover/action");
    assert_eq!(sent[0].1, 1);
    assert_eq!(sent[0].2["action"], "forward");
    assert_eq!(sent[0].2["speed"], 0.5, "the page sends the slider's speed");
    assert_eq!(sent[0].2["duration_ms"], 200);
}
