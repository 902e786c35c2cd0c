//! Every sample in `events/robot-publisher/` passes the API Gateway boundary (parsed as a REST
//! request, answered in API Gateway's shape, CORS on every answer); a payload that is no API
//! Gateway request is `InvalidEvent`.

use chrono::{DateTime, Utc};
use fleet_core::FromVars;
use fleet_core::HttpHandler;
use fleet_core::{ErrorClass, FixedClock};
use fleet_testkit::{event_files, load_event};
use lambda_runtime::{Context, LambdaEvent};
use robot_publisher::config::Config;
use robot_publisher::memory::MemorySequence;
use robot_publisher::memory::RecordingPublisher;
use robot_publisher::App;
use serde_json::json;

#[tokio::test]
async fn every_sample_passes_the_api_gateway_boundary() {
    let t0: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
    let app = App {
        publisher: RecordingPublisher::default(),
        sequence: MemorySequence::default(),
        clock: FixedClock::at(t0),
        settings: Config::from_vars(&[("ROBOT_NAME", "rover"), ("STATE_TABLE", "state")])
            .unwrap()
            .settings,
    };
    let handle = |request| app.handle(request);
    let files = event_files("robot-publisher");
    assert_eq!(files.len(), 11, "{files:?}");
    for file in files {
        let event = LambdaEvent::new(load_event(&file), Context::default());
        let answer = fleet_core::http::answer(event, &handle)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(answer["statusCode"].as_u64().is_some(), "{file}: {answer}");
        assert_eq!(
            answer["multiValueHeaders"]["access-control-allow-origin"][0], "*",
            "{file}"
        );
    }
    assert_eq!(
        app.publisher.published.lock().unwrap().len(),
        3,
        "the three good commands"
    );
    let err = fleet_core::http::answer(
        LambdaEvent::new(json!([1, 2, 3]), Context::default()),
        &handle,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidEvent);
}
