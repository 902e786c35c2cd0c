//! The skill function as the README runs it locally: `cargo lambda watch` (cargo-lambda from
//! `.venv`) serving the real binary, with moto behind it, answering Alexa requests posted to
//! the Lambda invoke API.

use fleet_testkit::{free_port, load_event, workspace_root, Moto};
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the whole process group (cargo lambda, cargo run, the function) on drop.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

fn invoke(agent: &ureq::Agent, port: u16, event: &Value) -> Result<Value, String> {
    let url = format!("http://127.0.0.1:{port}/2015-03-31/functions/alexa-skill/invocations");
    let mut response = agent
        .post(&url)
        .send_json(event)
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    if status >= 500 && text.is_empty() {
        return Err(format!("HTTP {status}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
}

#[test]
fn the_skill_answers_alexa_requests_under_cargo_lambda_watch() {
    let moto = Moto::start();
    let sdk_env = moto.env();
    // The function reads its OTP key at init: put one in the stand-in's Secrets Manager.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        aws_sdk_secretsmanager::Client::new(&moto.sdk_config())
            .create_secret()
            .name("fleet/otp-key")
            .secret_string("k".repeat(40))
            .send()
            .await
            .unwrap();
    });
    let port = free_port();
    let cargo_lambda = workspace_root().join(".venv/bin/cargo-lambda");
    assert!(
        cargo_lambda.exists(),
        "run `make setup` first: {} is missing",
        cargo_lambda.display()
    );
    let child = Command::new(&cargo_lambda)
        .args([
            "lambda",
            "watch",
            "--invoke-port",
            &port.to_string(),
            "--package",
            "alexa-skill",
        ])
        .current_dir(workspace_root())
        .envs(sdk_env)
        .env(
            "SKILL_ID",
            "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f",
        )
        .env("ACCESS_TABLE", "access")
        .env("PROFILES_TABLE", "profiles")
        .env("CODES_TABLE", "codes")
        .env("OTP_KEY_SECRET_ID", "fleet/otp-key")
        .env("CODE_LENGTH", "4")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting cargo lambda watch: {e}"));
    let _watch = Watch(child);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into();

    // The first invocation waits for the function to build and start.
    let launch = load_event("alexa-skill/01-launch.json");
    let started = Instant::now();
    let answer = loop {
        match invoke(&agent, port, &launch) {
            Ok(answer) => break answer,
            Err(e) if started.elapsed() < Duration::from_secs(300) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => panic!("no answer from cargo lambda watch within 300 s: {e}"),
        }
    };
    assert!(
        answer["response"]["outputSpeech"]["ssml"]
            .as_str()
            .is_some_and(|s| s.starts_with("<speak>Welcome to easy to cloud.")),
        "{answer}"
    );
    assert_eq!(answer["response"]["shouldEndSession"], false);

    let refused = invoke(
        &agent,
        port,
        &load_event("alexa-skill/17-another-skill.json"),
    )
    .unwrap();
    assert_eq!(refused["errorType"], "InvalidEvent", "{refused}");
    assert_eq!(
        refused["errorMessage"], "the request is not for this skill",
        "{refused}"
    );
}
