//! Robot publisher benchmark (not a test): handler time per drive command with an in-memory
//! publisher, and per command through the IoT adapter against the stand-in, including the one
//! DescribeEndpoint. Run with `make bench`.

use chrono::Duration;
use fleet_core::HttpHandler;
use fleet_core::SystemClock;
use fleet_testkit::Moto;
use lambda_http::http::{HeaderValue, Method};
use lambda_http::{Body, Request};
use robot_publisher::memory::MemorySequence;
use robot_publisher::memory::RecordingPublisher;
use robot_publisher::{App, Settings};
use std::time::Instant;

fn drive_request() -> Request {
    let mut request = Request::new(Body::from(
        r#"{"action":"forward","speed":0.5,"duration_ms":300}"#,
    ));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = "/publish".parse().unwrap_or_default();
    request
}

#[tokio::main]
async fn main() {
    let app = App {
        publisher: RecordingPublisher::default(),
        sequence: MemorySequence::default(),
        clock: SystemClock,
        settings: Settings {
            robot_name: "rover".into(),
            allowed_origin: HeaderValue::from_static("*"),
            command_ttl: Duration::seconds(3),
        },
    };
    let started = Instant::now();
    for _ in 0..10_000 {
        let response = app.handle(drive_request()).await;
        assert_eq!(response.status().as_u16(), 202);
    }
    println!(
        "in-memory publisher: {:.1} µs per drive command (validate, build payload, answer; 10,000 commands)",
        started.elapsed().as_secs_f64() * 1e6 / 10_000.0
    );

    let moto = Moto::start();
    let config = fleet_local::robot_config(&moto).await;
    let app = robot_publisher::wire(&moto.sdk_config(), config, fleet_core::Env::system())
        .await
        .unwrap();
    let started = Instant::now();
    let first = app.handle(drive_request()).await;
    let cold = started.elapsed();
    let started = Instant::now();
    for _ in 0..200 {
        let response = app.handle(drive_request()).await;
        assert_eq!(response.status().as_u16(), 202);
    }
    println!(
        "stand-in: first command {:.1} ms (with DescribeEndpoint, status {}), then {:.2} ms per command (200 commands, one counter UpdateItem and one Publish each)",
        cold.as_secs_f64() * 1e3,
        first.status().as_u16(),
        started.elapsed().as_secs_f64() * 1e3 / 200.0
    );
}
