//! The skill function as the README runs it locally: `cargo lambda watch --only-lambda-apis`
//! (cargo-lambda from `.venv`) serving Lambda's runtime and invoke APIs, the real `alexa-skill`
//! binary polling them with the README's variables, moto behind it, and
//! `cargo lambda invoke alexa-skill --data-file events/…` sending Alexa requests.
//!
//! The README starts the binary with `cargo run -p alexa-skill`; the test starts the binary that
//! `cargo test --workspace` built (see `fleet_testkit::runtime::workspace_binary`). Letting
//! cargo-lambda build it instead (`cargo lambda watch` without `--only-lambda-apis` runs
//! `cargo run --package alexa-skill --bin alexa-skill`) resolves features for the skill alone:
//! tokio, serde, serde_json, bytes and the SDK crates lose the features other members and
//! dev-dependencies turn on (`test-util`, `process`, `preserve_order`, …), so 55 of the skill's
//! 194 build units — every crate above tokio or serde, the SDKs included — were compiled a
//! second time (210 s of a CI run).

use fleet_testkit::runtime::workspace_binary;
use fleet_testkit::{free_port, workspace_root, Moto};
use serde_json::Value;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Kills the whole process group on drop.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

fn cargo_lambda() -> Command {
    let path = workspace_root().join(".venv/bin/cargo-lambda");
    assert!(
        path.exists(),
        "run `make setup` first: {} is missing",
        path.display()
    );
    let mut command = Command::new(path);
    command.arg("lambda").current_dir(workspace_root());
    command
}

/// `cargo lambda invoke alexa-skill --data-file <file>`, as the README runs it, within 60 s.
fn invoke(port: u16, file: &str) -> Output {
    let mut child = cargo_lambda()
        .args(["invoke", "alexa-skill", "--invoke-port", &port.to_string()])
        .args(["--data-file", file, "--output-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting cargo lambda invoke: {e}"));
    let started = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            drop(Group(child));
            panic!("cargo lambda invoke {file}: no answer within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn the_skill_answers_alexa_requests_under_cargo_lambda_watch() {
    let moto = Moto::start();
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
    let watch = cargo_lambda()
        .args([
            "watch",
            "--only-lambda-apis",
            "--invoke-port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting cargo lambda watch: {e}"));
    let _watch = Group(watch);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "cargo lambda watch did not listen on {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The README's variables, then the runtime ones `--only-lambda-apis` leaves to the caller.
    let skill = Command::new(workspace_binary("alexa-skill"))
        .envs(moto.env())
        .env(
            "SKILL_ID",
            "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f",
        )
        .env("ACCESS_TABLE", "access")
        .env("PROFILES_TABLE", "profiles")
        .env("CODES_TABLE", "codes")
        .env("CODES_KEY_PREFIX", "alexa")
        .env("OTP_KEY_SECRET_ID", "fleet/otp-key")
        .env("CODE_LENGTH", "4")
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt/alexa-skill"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "alexa-skill")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting alexa-skill: {e}"));
    let _skill = Group(skill);

    let launch = invoke(port, "events/alexa-skill/01-launch.json");
    assert!(
        launch.status.success(),
        "{}",
        String::from_utf8_lossy(&launch.stderr)
    );
    let answer: Value = serde_json::from_slice(&launch.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&launch.stdout)));
    assert!(
        answer["response"]["outputSpeech"]["ssml"]
            .as_str()
            .is_some_and(|s| s.starts_with("<speak>Welcome to easy cloud.")),
        "{answer}"
    );
    assert_eq!(answer["response"]["shouldEndSession"], false);

    let refused = invoke(port, "events/alexa-skill/17-another-skill.json");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    assert!(stderr.starts_with("Error: InvalidEvent"), "{stderr}");
    assert!(
        stderr.contains("the request is not for this skill"),
        "{stderr}"
    );
}
