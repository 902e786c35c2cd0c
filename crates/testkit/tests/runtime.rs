//! The Runtime API emulator against a scripted client (ureq, a raw socket, shell scripts):
//! the protocol as AWS documents it, and how `Function::run` reports a process that exits,
//! hangs, or reads its environment. Real function binaries: tests/runtime.rs (fleet-local).

use fleet_testkit::runtime::{Function, FunctionError, Outcome, RuntimeApi};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn url(api: &RuntimeApi, path: &str) -> String {
    format!("http://{}/2018-06-01/runtime{path}", api.address())
}

/// `GET …/invocation/next`: (request id, headers, event).
fn next(api: &RuntimeApi) -> (String, ureq::http::HeaderMap, Value) {
    let mut response = agent().get(&url(api, "/invocation/next")).call().unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let event: Value = response.body_mut().read_json().unwrap();
    let id = headers["lambda-runtime-aws-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (id, headers, event)
}

fn post(api: &RuntimeApi, path: &str, headers: &[(&str, &str)], body: &Value) -> u16 {
    let mut request = agent().post(&url(api, path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send_json(body).unwrap().status().as_u16()
}

#[test]
fn next_hands_out_the_event_with_lambdas_headers_and_the_response_is_recorded() {
    let api = RuntimeApi::start("probe", Duration::from_secs(30));
    assert!(api.address().starts_with("127.0.0.1:"), "{}", api.address());
    let pushed = api.push(&json!({"detail-type": "Scheduled Event"}));
    let (id, headers, event) = next(&api);
    assert_eq!(id, pushed);
    assert_eq!(event, json!({"detail-type": "Scheduled Event"}));
    assert_eq!(
        headers["lambda-runtime-invoked-function-arn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:probe"
    );
    let deadline: u128 = headers["lambda-runtime-deadline-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(
        (now + 29_000..=now + 30_000).contains(&deadline),
        "deadline {deadline}, now {now}"
    );
    let trace = headers["lambda-runtime-trace-id"].to_str().unwrap();
    assert!(
        trace.starts_with("Root=1-") && trace.contains(";Parent=") && trace.ends_with(";Sampled=0"),
        "{trace}"
    );

    assert_eq!(
        post(
            &api,
            &format!("/invocation/{id}/response"),
            &[],
            &json!({"ok": true})
        ),
        202
    );
    assert_eq!(
        api.outcome(&id, Duration::from_secs(1)),
        Some(Outcome::Response(json!({"ok": true})))
    );
}

#[test]
fn request_ids_differ() {
    let api = RuntimeApi::start("probe", Duration::from_secs(3));
    let ids: std::collections::HashSet<String> = (0..100).map(|_| api.push(&json!({}))).collect();
    assert_eq!(ids.len(), 100);
}

#[test]
fn next_waits_until_an_event_is_queued() {
    let api = std::sync::Arc::new(RuntimeApi::start("probe", Duration::from_secs(3)));
    let waiting = {
        let api = std::sync::Arc::clone(&api);
        std::thread::spawn(move || next(&api))
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiting.is_finished(), "next answered with nothing queued");
    let id = api.push(&json!({"n": 1}));
    let (got, _, event) = waiting.join().unwrap();
    assert_eq!((got, event), (id, json!({"n": 1})));
}

#[test]
fn an_invocation_error_keeps_its_type_header_and_json_body() {
    let api = RuntimeApi::start("probe", Duration::from_secs(3));
    api.push(&json!({}));
    let (id, _, _) = next(&api);
    let body =
        json!({"errorType": "InvalidEvent", "errorMessage": "no detail-type", "stackTrace": []});
    let status = post(
        &api,
        &format!("/invocation/{id}/error"),
        &[("Lambda-Runtime-Function-Error-Type", "Unhandled")],
        &body,
    );
    assert_eq!(status, 202);
    let Some(Outcome::Error(error)) = api.outcome(&id, Duration::from_secs(1)) else {
        panic!("no error recorded");
    };
    assert_eq!(
        error,
        FunctionError {
            header: Some("Unhandled".into()),
            body: body.clone()
        }
    );
    assert_eq!(error.error_type(), "InvalidEvent", "the body's type first");
    assert_eq!(error.message(), "no detail-type");
}

#[test]
fn an_init_error_answers_the_waiting_event() {
    let api = RuntimeApi::start("probe", Duration::from_secs(3));
    let id = api.push(&json!({}));
    let body = json!({"errorType": "InvalidConfig", "errorMessage": "ROBOT_NAME is not set"});
    let status = post(
        &api,
        "/init/error",
        &[("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")],
        &body,
    );
    assert_eq!(status, 202);
    let Some(Outcome::InitError(error)) = api.outcome(&id, Duration::from_secs(1)) else {
        panic!("no init error recorded");
    };
    assert_eq!(error.header.as_deref(), Some("Runtime.InitError"));
    assert_eq!(error.error_type(), "InvalidConfig");
    assert_eq!(error.message(), "ROBOT_NAME is not set");
}

#[test]
fn answers_for_unknown_or_answered_invocations_are_refused() {
    let api = RuntimeApi::start("probe", Duration::from_secs(3));
    let queued = api.push(&json!({}));
    // Not handed out yet.
    assert_eq!(
        post(
            &api,
            &format!("/invocation/{queued}/response"),
            &[],
            &json!(1)
        ),
        400
    );
    let (id, _, _) = next(&api);
    assert_eq!(
        post(&api, &format!("/invocation/{id}/response"), &[], &json!(1)),
        202
    );
    assert_eq!(
        post(&api, &format!("/invocation/{id}/error"), &[], &json!({})),
        400
    );
    assert_eq!(
        api.outcome(&id, Duration::ZERO),
        Some(Outcome::Response(json!(1)))
    );
    let status = agent()
        .get(&format!("http://{}/2015-03-31/functions", api.address()))
        .call()
        .unwrap()
        .status();
    assert_eq!(status, 404);
}

#[test]
fn a_chunked_response_body_is_read_whole() {
    let api = RuntimeApi::start("probe", Duration::from_secs(3));
    api.push(&json!({}));
    let (id, _, _) = next(&api);
    let mut stream = TcpStream::connect(api.address()).unwrap();
    write!(
        stream,
        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         5\r\n{{\"a\":\r\n3\r\n 1}}\r\n0\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 202"), "{reply}");
    assert_eq!(
        api.outcome(&id, Duration::from_secs(1)),
        Some(Outcome::Response(json!({"a": 1})))
    );
}

/// An executable shell script in the temp dir, removed on drop.
struct Script(PathBuf);

impl Script {
    fn new(name: &str, body: &str) -> Script {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("runtime-test-{}-{name}", std::process::id()));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Script(path)
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_process_that_exits_is_reported_with_its_status_and_gets_no_more_events() {
    let script = Script::new("exits", "echo 'Error: ROBOT_NAME is not set' >&2\nexit 3");
    let run = Function::new(&script.0).run(&[json!({"n": 1}), json!({"n": 2})]);
    assert_eq!(
        run.outcomes(),
        [&Outcome::Exited("process exited with status 3".into())]
    );
    assert_eq!(run.ended, "process exited with status 3");
    assert_eq!(run.first_response, None);
    assert!(run.logs.contains("ROBOT_NAME is not set"), "{}", run.logs);
}

#[test]
fn a_function_that_does_not_answer_times_out_and_is_killed_with_its_peak_rss_read() {
    let script = Script::new("hangs", "exec sleep 60");
    let run = Function::new(&script.0)
        .timeout(Duration::from_millis(300))
        .init_timeout(Duration::ZERO)
        .run(&[json!({})]);
    assert_eq!(
        run.outcomes(),
        [&Outcome::TimedOut(Duration::from_millis(300))]
    );
    assert_eq!(run.ended, "killed: no answer within 300ms");
    assert!(
        run.peak_rss_kib.is_some_and(|kib| kib > 0),
        "{:?}",
        run.peak_rss_kib
    );
}

#[test]
fn the_function_gets_lambdas_variables_and_the_extra_ones_and_nothing_else() {
    let script = Script::new("env", "env | sort\nexit 0");
    let run = Function::new(&script.0)
        .name("robot-publisher")
        .memory_mb(256)
        .env("ROBOT_NAME", "rover")
        .envs([("AWS_REGION", "us-east-1")])
        .run(&[json!({})]);
    let vars: Vec<&str> = run.logs.lines().collect();
    for expected in [
        "AWS_LAMBDA_FUNCTION_NAME=robot-publisher",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
        "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
        "ROBOT_NAME=rover",
        "AWS_REGION=us-east-1",
    ] {
        assert!(vars.contains(&expected), "{expected} missing: {vars:?}");
    }
    let api = vars
        .iter()
        .find_map(|v| v.strip_prefix("AWS_LAMBDA_RUNTIME_API="))
        .unwrap();
    assert!(api.starts_with("127.0.0.1:"), "{api}");
    assert!(
        !vars.iter().any(|v| v.starts_with("CARGO")),
        "the test's environment leaked: {vars:?}"
    );
}
