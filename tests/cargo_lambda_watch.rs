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

/// `cargo lambda invoke <function> --data-file <file>`, as the README runs it, within 60 s.
fn invoke(port: u16, function: &str, file: impl AsRef<std::ffi::OsStr>) -> Output {
    let mut child = cargo_lambda()
        .args(["invoke", function, "--invoke-port", &port.to_string()])
        .arg("--data-file")
        .arg(file.as_ref())
        .args(["--output-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting cargo lambda invoke: {e}"));
    let started = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            drop(Group(child));
            panic!("cargo lambda invoke {function}: no answer within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `cargo lambda watch --only-lambda-apis` on a free port, listening: (port, its process group).
fn watch() -> (u16, Group) {
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
    let watch = Group(watch);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "cargo lambda watch did not listen on {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (port, watch)
}

/// A workspace binary polling the runtime API of `cargo lambda watch` on `port` as `name`, with
/// `env` and the runtime variables `--only-lambda-apis` leaves to the caller.
fn serve(port: u16, name: &str, env: Vec<(String, String)>) -> Group {
    let child = Command::new(workspace_binary(name))
        .envs(env)
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{port}/.rt/{name}"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    Group(child)
}

/// The stand-in's variables, then `vars`.
fn with_moto(
    moto: &Moto,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Vec<(String, String)> {
    moto.env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(vars)
        .collect()
}

#[test]
fn the_skill_answers_alexa_requests_under_cargo_lambda_watch() {
    let moto = Moto::start();
    // The function reads its OTP key on first use: put one in the stand-in's Secrets Manager.
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
    let (port, _watch) = watch();
    // The README's variables.
    let readme = [
        (
            "SKILL_ID",
            "amzn1.ask.skill.5d1c3f0e-7a2b-4c9d-8e1f-0a2b3c4d5e6f",
        ),
        ("ACCESS_TABLE", "access"),
        ("PROFILES_TABLE", "profiles"),
        ("CODES_TABLE", "codes"),
        ("CODES_KEY_PREFIX", "alexa"),
        ("OTP_KEY_SECRET_ID", "fleet/otp-key"),
        ("CODE_LENGTH", "4"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let _skill = serve(port, "alexa-skill", with_moto(&moto, readme));

    let launch = invoke(port, "alexa-skill", "events/alexa-skill/01-launch.json");
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

    let refused = invoke(
        port,
        "alexa-skill",
        "events/alexa-skill/17-another-skill.json",
    );
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

/// Issue 17, point 4: every function as the README's "Every function locally" runs it: one
/// `cargo lambda watch --only-lambda-apis`, each binary polling its own runtime API
/// (`/.rt/<binary>`) with the table's variables against the stand-in, and
/// `cargo lambda invoke <binary> --data-file events/…` answering as the table says — HTTP
/// functions (robot publisher, OTP API) and event-driven ones alike.
#[test]
fn every_function_answers_its_sample_under_cargo_lambda_watch() {
    use fleet_local::fleet::{create_resources, env, event, matches, FLEET};
    let moto = Moto::start();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(create_resources(&moto));
    let (port, _watch) = watch();
    let _functions: Vec<Group> = FLEET
        .iter()
        .map(|f| serve(port, f.binary, with_moto(&moto, env(f, &moto))))
        .collect();
    let scratch = std::env::temp_dir().join(format!("fleet-invoke-{port}"));
    std::fs::create_dir_all(&scratch).unwrap();
    for function in FLEET {
        // The sample as the README sends it (the scheduler's dated now, as its `jq` does).
        let file = scratch.join(function.sample.replace('/', "-"));
        std::fs::write(&file, event(function.sample).to_string()).unwrap();
        let out = invoke(port, function.binary, &file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let answer: Result<Value, String> = if out.status.success() {
            serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}"))
        } else {
            // `Error: <errorType>: …`, as cargo lambda prints a failed invocation.
            Err(stderr
                .trim_start_matches("Error: ")
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned())
        };
        assert!(
            matches(function.expect, answer.as_ref().map_err(String::as_str)),
            "{} on {}: expected {:?}, got {answer:?} ({stderr})",
            function.binary,
            function.sample,
            function.expect
        );
    }
    let _ = std::fs::remove_dir_all(scratch);
}
