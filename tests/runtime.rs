//! The real robot-publisher binary (as `cargo test --workspace` built it) under the test kit's
//! Lambda Runtime API emulator: API Gateway events in, responses and errors out, iot-data
//! Publish read back from moto; and an init failure reported with its class.

use fleet_testkit::runtime::{workspace_binary, Function, Outcome};
use fleet_testkit::{load_event, Moto};
use serde_json::{json, Value};

fn publisher() -> Function {
    Function::new(workspace_binary("robot-publisher"))
}

/// The response's API Gateway body, parsed.
fn body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap_or_default()).unwrap_or(Value::Null)
}

#[test]
fn the_publisher_binary_answers_events_one_by_one_through_the_runtime_api() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(fleet_local::robot_config(&moto));
    moto.start_recording();
    let run = publisher()
        .envs(moto.env())
        .env("ROBOT_NAME", "rover")
        .env("STATE_TABLE", config.state_table.as_str())
        .run(&[
            load_event("robot-publisher/01-forward.json"),
            load_event("robot-publisher/11-drive-page.json"),
            // Not an API Gateway request: the runtime cannot hand it to the handler.
            json!({"detail-type": "Scheduled Event"}),
            load_event("robot-publisher/03-stop.json"),
        ]);
    let outcomes = run.outcomes();
    assert_eq!(outcomes.len(), 4, "{outcomes:?}\n{}", run.logs);
    println!(
        "debug build: first response {:?} after start, peak RSS {:?} KiB, {}",
        run.first_response, run.peak_rss_kib, outcomes[2]
    );

    let Outcome::Response(forward) = outcomes[0] else {
        panic!("{}\n{}", outcomes[0], run.logs);
    };
    assert_eq!(forward["statusCode"], 202, "{forward}");
    assert_eq!(body(forward)["topic"], "rover/action", "{forward}");

    let Outcome::Response(page) = outcomes[1] else {
        panic!("{}", outcomes[1]);
    };
    assert_eq!(page["statusCode"], 200);
    assert!(
        page["body"]
            .as_str()
            .is_some_and(|b| b.contains("id=\"forward\"")),
        "{page}"
    );

    let Outcome::Error(error) = outcomes[2] else {
        panic!("{}", outcomes[2]);
    };
    // The one typed boundary refuses it with the fleet's class, naming what it expected.
    assert_eq!(error.error_type(), "InvalidEvent", "{error:?}");
    assert!(
        error.message().starts_with("not an API Gateway request"),
        "{error:?}"
    );

    let Outcome::Response(stop) = outcomes[3] else {
        panic!("{}", outcomes[3]);
    };
    assert_eq!(
        stop["statusCode"], 202,
        "the process survived the bad event"
    );

    let published: Vec<Value> = moto
        .recorded_requests()
        .iter()
        .filter(|r| r.method == "POST" && r.url.contains("/topics/rover%2Faction"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let actions: Vec<&str> = published
        .iter()
        .map(|p| p["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["forward", "stop"]);
    let sequences: Vec<u64> = published
        .iter()
        .map(|p| p["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, [1, 2], "numbered by the shared counter");

    assert!(run.first_response.is_some());
    assert!(
        run.peak_rss_kib.is_some_and(|kib| kib > 1024),
        "{:?}",
        run.peak_rss_kib
    );
    assert_eq!(run.ended, "killed after the last event");
    assert!(run.answers.iter().all(|a| a.took.is_some()));
    assert!(
        run.answers.iter().all(|a| a.latency >= a.took),
        "a caller waits at least as long as the function works: {:?}",
        run.answers
    );
}

/// A missing setting fails the cold start and reaches Lambda through the runtime API's init-error
/// endpoint as `InvalidConfig`, naming the variable, not as "exit status 1".
#[test]
fn the_publisher_without_robot_name_reports_invalid_config_at_init() {
    let run = publisher().run(&[load_event("robot-publisher/01-forward.json")]);
    let outcomes = run.outcomes();
    let [Outcome::InitError(error)] = outcomes.as_slice() else {
        panic!("{outcomes:?}\n{}", run.logs);
    };
    assert_eq!(error.error_type(), "InvalidConfig", "{error:?}");
    assert_eq!(error.message(), "missing environment variable ROBOT_NAME");
    assert_eq!(error.header.as_deref(), Some("InvalidConfig"), "{error:?}");
    assert_eq!(run.first_response, None);
}

/// An instance that died answers every later event at once, so a load test with a broken build
/// ends instead of waiting out a timeout per request.
#[test]
fn an_instance_that_failed_its_init_answers_later_events_at_once_with_its_end() {
    let mut instance = publisher().start();
    let event = load_event("robot-publisher/01-forward.json");
    let first = instance.invoke(&event);
    assert!(matches!(first.outcome, Outcome::InitError(_)), "{first:?}");
    assert!(!first.is_alive());
    let started = std::time::Instant::now();
    let second = instance.invoke(&event);
    assert!(matches!(second.outcome, Outcome::Exited(_)), "{second:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let run = instance.finish();
    assert_eq!(run.answers.len(), 1, "only the event it took is recorded");
}
