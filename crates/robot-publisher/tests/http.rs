//! The handler on every sample request in `events/robot-publisher/`, with a recording publisher:
//! status, headers, messages, and what was published.

use chrono::{DateTime, Duration, Utc};
use fleet_core::FixedClock;
use fleet_core::HttpHandler;
use fleet_testkit::{event_files, load_event};
use lambda_http::http::{HeaderValue, Method};
use lambda_http::{Body, Request, Response};
use robot_publisher::memory::MemorySequence;
use robot_publisher::memory::RecordingPublisher;
use robot_publisher::ports::PublishError;
use robot_publisher::{App, Settings};

type TestApp = App<RecordingPublisher, MemorySequence, FixedClock>;

fn now() -> DateTime<Utc> {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

fn app(publisher: RecordingPublisher) -> TestApp {
    App {
        publisher,
        sequence: MemorySequence::default(),
        clock: FixedClock::at(now()),
        settings: Settings {
            robot_name: "rover".into(),
            allowed_origin: HeaderValue::from_static("*"),
            command_ttl: Duration::seconds(3),
        },
    }
}

fn request(file: &str) -> Request {
    lambda_http::request::from_str(&load_event(file).to_string())
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn body(response: &Response<Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

fn error_message(response: &Response<Body>) -> String {
    let json: serde_json::Value = serde_json::from_str(&body(response)).unwrap();
    json["error"].as_str().unwrap().to_owned()
}

/// Expected status per sample, and for refusals the start of the message.
fn expected(file: &str) -> (u16, &'static str) {
    match file.rsplit('/').next().unwrap() {
        "01-forward.json" | "02-left-slow.json" | "03-stop.json" => (202, ""),
        "04-bad-unknown-action.json" => (
            400,
            "\"action\" must be one of forward, backwards, left, right, stop (got \"up\")",
        ),
        "05-bad-speed-out-of-range.json" => {
            (400, "\"speed\" must be a number from 0.1 to 1.0 (got 1.5)")
        }
        "06-bad-unknown-field.json" => (400, "unknown field \"turbo\""),
        "07-bad-json.json" => (400, "the body is not valid JSON"),
        "08-bad-oversized.json" => (400, "the body is 1136 bytes; the limit is 1024"),
        "09-bad-method.json" => (405, "method not allowed"),
        "10-preflight.json" => (204, ""),
        "11-drive-page.json" => (200, ""),
        other => panic!("{other}: add its expected answer here"),
    }
}

#[tokio::test]
async fn every_sample_request_gets_its_answer() {
    let app = app(RecordingPublisher::default());
    let files = event_files("robot-publisher");
    assert_eq!(files.len(), 11);
    let mut published = 0;
    for file in &files {
        let response = app.handle(request(file)).await;
        let (status, message) = expected(file);
        assert_eq!(
            response.status().as_u16(),
            status,
            "{file}: {}",
            body(&response)
        );
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "*",
            "{file}"
        );
        assert_eq!(
            response.headers()["access-control-allow-headers"],
            "Content-Type, X-Api-Key",
            "{file}"
        );
        match status {
            202 => {
                published += 1;
                let answer: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
                assert_eq!(answer["topic"], "rover/action", "{file}");
                assert!(answer["sequence"].as_u64().is_some(), "{file}");
                assert_eq!(answer["expires_at"], "2026-11-23T09:00:03.000Z", "{file}");
            }
            400 | 405 => assert!(
                error_message(&response).starts_with(message),
                "{file}: {}",
                body(&response)
            ),
            _ => {}
        }
        if status == 405 {
            assert_eq!(response.headers()["allow"], "POST, OPTIONS");
        }
        if status == 200 {
            assert!(response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"));
            let page = body(&response);
            for action in ["forward", "backwards", "left", "right", "stop"] {
                assert!(
                    page.contains(&format!("data-action=\"{action}\"")),
                    "{action}"
                );
            }
        }
    }
    assert_eq!(published, 3);
    let sent = app.publisher.published.lock().unwrap().clone();
    assert_eq!(sent.len(), 3, "refused requests publish nothing");
    let payloads: Vec<serde_json::Value> = sent
        .iter()
        .map(|(topic, payload)| {
            assert_eq!(topic, "rover/action");
            serde_json::from_slice(payload).unwrap()
        })
        .collect();
    assert_eq!(payloads[1]["action"], "left");
    assert_eq!(payloads[1]["speed"], 0.5);
    assert_eq!(payloads[1]["duration_ms"], 500);
    assert_eq!(payloads[0]["issued_at"], "2026-11-23T09:00:00.000Z");
    assert!(payloads[0]["sequence"].as_u64() < payloads[1]["sequence"].as_u64());
}

#[tokio::test]
async fn an_iot_failure_is_a_short_502() {
    let app = app(RecordingPublisher {
        failure: Some(PublishError {
            code: "ServiceUnavailableException".into(),
            message: "internal details that must not leak".into(),
            class: fleet_core::ErrorClass::Unavailable,
        }),
        ..RecordingPublisher::default()
    });
    let response = app.handle(request("robot-publisher/01-forward.json")).await;
    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(
        error_message(&response),
        "the robot's IoT topic could not be reached; try again"
    );
}

#[tokio::test]
async fn requests_without_api_gateway_context_route_by_uri() {
    let app = app(RecordingPublisher::default());
    let mut post = Request::new(Body::from(r#"{"action":"right"}"#));
    *post.method_mut() = Method::POST;
    *post.uri_mut() = "http://localhost:9000/publish".parse().unwrap();
    assert_eq!(app.handle(post).await.status().as_u16(), 202);

    let mut unknown = Request::new(Body::Empty);
    *unknown.uri_mut() = "http://localhost:9000/steer".parse().unwrap();
    let response = app.handle(unknown).await;
    assert_eq!(response.status().as_u16(), 404);

    let mut put_page = Request::new(Body::Empty);
    *put_page.method_mut() = Method::PUT;
    *put_page.uri_mut() = "http://localhost:9000/".parse().unwrap();
    let response = app.handle(put_page).await;
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD, OPTIONS");
}

/// Two containers whose clocks disagree by an hour, sharing the counter (as every container
/// shares the DynamoDB item): a stop sent after a forward always carries the higher number, so
/// the robot can never order the stop behind the forward. Numbered by each container's clock,
/// the slow container's later stop would lose.
#[tokio::test]
async fn a_later_command_from_a_slower_container_still_numbers_higher() {
    let shared = MemorySequence::default();
    let fast = App {
        sequence: shared.clone(),
        ..app(RecordingPublisher::default())
    };
    let slow = App {
        sequence: shared,
        clock: FixedClock::at(now() - Duration::hours(1)),
        ..app(RecordingPublisher::default())
    };
    let forward = fast
        .handle(request("robot-publisher/01-forward.json"))
        .await;
    let stop = slow.handle(request("robot-publisher/03-stop.json")).await;
    let number = |r: &Response<Body>| {
        serde_json::from_str::<serde_json::Value>(&body(r)).unwrap()["sequence"]
            .as_u64()
            .unwrap()
    };
    assert!(number(&forward) < number(&stop));
    let payload = |a: &TestApp| -> serde_json::Value {
        serde_json::from_slice(&a.publisher.published.lock().unwrap()[0].1).unwrap()
    };
    assert_eq!(payload(&slow)["action"], "stop");
    assert_eq!(payload(&slow)["rule"], robot_publisher::ROBOT_RULE);
}

/// Without a number there is no command: the robot could not order it.
#[tokio::test]
async fn no_sequence_number_no_command() {
    let app = App {
        sequence: MemorySequence {
            unavailable: true,
            ..MemorySequence::default()
        },
        ..app(RecordingPublisher::default())
    };
    let response = app.handle(request("robot-publisher/01-forward.json")).await;
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(
        error_message(&response),
        "the command could not be numbered; try again"
    );
    assert!(app.publisher.published.lock().unwrap().is_empty());
}
