//! The robot publisher: one drive command through the HTTP API (`events/robot-publisher/`), the
//! message read back from what the stand-in's IoT Core received, and a bad command refused.

use fleet_core::{Env, HttpHandler};
use fleet_testkit::{iot_publishes, load_event, Moto};

use super::{config, ensure, Outcome};

async fn post(app: &robot_publisher::LambdaApp, sample: &str) -> Result<(u16, String), String> {
    let event = load_event(&format!("robot-publisher/{sample}"));
    let body = event["body"].as_str().unwrap_or_default().to_owned();
    let request =
        lambda_http::request::from_str(&event.to_string()).map_err(|e| format!("{sample}: {e}"))?;
    let response = app.handle(request).await;
    let status = response.status().as_u16();
    let answer = String::from_utf8_lossy(response.body().as_ref()).into_owned();
    println!("POST /publish {body}\n  → {status} {answer}");
    Ok((status, answer))
}

pub async fn run(moto: &Moto) -> Outcome {
    let sdk = moto.sdk_config();
    let app = robot_publisher::wire(&sdk, config(moto, "robot-publisher", &[])?, Env::system())
        .await
        .map_err(|e| e.to_string())?;
    moto.start_recording();
    let (status, _) = post(&app, "01-forward.json").await?;
    ensure(status == 202, || {
        format!("the drive command answered {status}")
    })?;
    let (status, _) = post(&app, "04-bad-unknown-action.json").await?;
    ensure(status == 400, || {
        format!("an unknown action answered {status}")
    })?;

    let sent = iot_publishes(&moto.recorded_requests());
    println!("\nWhat IoT Core received (the stand-in's request recorder):");
    for (topic, qos, payload) in &sent {
        println!(
            "  topic {topic} (QoS {qos}): {}",
            String::from_utf8_lossy(payload)
        );
    }
    ensure(sent.len() == 1, || {
        format!("{} publishes, not 1", sent.len())
    })?;
    let (topic, _, payload) = &sent[0];
    let payload: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    ensure(topic == "telepresence-robot/action", || {
        format!("published to {topic}")
    })?;
    ensure(payload["action"] == "forward", || {
        format!("published {payload}")
    })?;
    Ok(
        "one drive command reached the robot's topic telepresence-robot/action with a sequence \
        number and an expiry; a bad command was refused and published nothing"
            .into(),
    )
}
