//! Faults (issue 18): the drive API with its IoT publish or its DynamoDB sequence throttled
//! (then answered, or throughout), answering 503 on every attempt, or not answering at all.
//! The SDK's retry absorbs passing throttling; anything else is a short 502 (publish) or 503
//! (numbering) and nothing reaches the robot unnumbered. A retried publish or counter increment
//! is safe: the robot drops a sequence number it has seen, and a skipped number is only a gap.

use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_iotdataplane::operation::publish::{PublishError, PublishOutput};
use chrono::Duration;
use fleet_core::{FixedClock, HttpHandler};
use fleet_testkit::faults::{Fault, Injected, Silent, ATTEMPTS};
use fleet_testkit::{inject, load_event};
use lambda_http::http::HeaderValue;
use robot_publisher::aws::{DynamoSequence, IotPublisher};
use robot_publisher::memory::{MemorySequence, RecordingPublisher};
use robot_publisher::ports::{Publisher, Sequence};
use robot_publisher::{App, Settings};

const ENDPOINT: &str = "a1b2c3-ats.iot.eu-west-1.amazonaws.com";

fn throttled_publish() -> PublishError {
    PublishError::generic(
        aws_sdk_iotdataplane::error::ErrorMetadata::builder()
            .code("ThrottlingException")
            .message("Rate exceeded")
            .build(),
    )
}

fn throttled_update() -> UpdateItemError {
    UpdateItemError::generic(
        aws_sdk_dynamodb::error::ErrorMetadata::builder()
            .code("ProvisionedThroughputExceededException")
            .message("slow down")
            .build(),
    )
}

/// The IoT adapter with `fault` on Publish (the endpoint is configured: no DescribeEndpoint).
fn publisher(fault: Fault) -> (IotPublisher, Injected<aws_sdk_iotdataplane::Client>) {
    let data = inject!(
        aws_sdk_iotdataplane,
        aws_sdk_iotdataplane::Client::publish,
        fault,
        throttled_publish,
        || PublishOutput::builder().build()
    );
    let iot = aws_sdk_iot::Client::new(&Silent::default().sdk);
    let publisher = IotPublisher::new(iot, data.client.clone(), Some(ENDPOINT.to_owned()), None);
    (publisher, data)
}

/// The DynamoDB counter with `fault` on UpdateItem.
fn sequence(fault: Fault) -> (DynamoSequence, Injected<aws_sdk_dynamodb::Client>) {
    let dynamodb = inject!(
        aws_sdk_dynamodb,
        aws_sdk_dynamodb::Client::update_item,
        fault,
        throttled_update,
        || UpdateItemOutput::builder()
            .attributes("Sequence", AttributeValue::N("7".into()))
            .build()
    );
    let sequence = DynamoSequence::new(dynamodb.client.clone(), "fleet-state", "rover");
    (sequence, dynamodb)
}

fn app<P: Publisher, S: Sequence>(publisher: P, sequence: S) -> App<P, S, FixedClock> {
    App {
        publisher,
        sequence,
        clock: FixedClock::at("2026-11-23T09:00:00Z".parse().unwrap()),
        settings: Settings {
            robot_name: "rover".into(),
            allowed_origin: HeaderValue::from_static("*"),
            command_ttl: Duration::seconds(3),
        },
    }
}

async fn drive<P: Publisher, S: Sequence>(app: &App<P, S, FixedClock>) -> u16 {
    let request = load_event("robot-publisher/01-forward.json").to_string();
    let request = lambda_http::request::from_str(&request).unwrap();
    app.handle(request).await.status().as_u16()
}

/// (status, attempts the mock saw) for a fault on Publish.
async fn publish_with(fault: Fault) -> (u16, usize) {
    let (publisher, data) = publisher(fault);
    let status = drive(&app(publisher, MemorySequence::default())).await;
    (status, data.attempts())
}

/// (status, attempts the mock saw, messages published) for a fault on the counter.
async fn number_with(fault: Fault) -> (u16, usize, usize) {
    let (sequence, dynamodb) = sequence(fault);
    let app = app(RecordingPublisher::default(), sequence);
    let status = drive(&app).await;
    let published = app.publisher.published.lock().unwrap().len();
    (status, dynamodb.attempts(), published)
}

#[tokio::test]
async fn publish_throttled_then_answered_is_retried_and_accepted() {
    assert_eq!(publish_with(Fault::ThrottledThenOk).await, (202, ATTEMPTS));
}

#[tokio::test]
async fn publish_throttled_throughout_is_a_502_after_the_retries() {
    assert_eq!(publish_with(Fault::Throttled).await, (502, ATTEMPTS));
}

#[tokio::test]
async fn publish_5xx_is_a_502_after_the_retries() {
    assert_eq!(publish_with(Fault::ServerError).await, (502, ATTEMPTS));
}

#[tokio::test]
async fn publish_timeout_is_a_502_after_the_retries() {
    assert_eq!(publish_with(Fault::Timeout).await, (502, ATTEMPTS));
}

#[tokio::test]
async fn numbering_throttled_then_answered_is_retried_and_published_once() {
    assert_eq!(
        number_with(Fault::ThrottledThenOk).await,
        (202, ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn numbering_throttled_throughout_is_a_503_and_nothing_is_published() {
    assert_eq!(number_with(Fault::Throttled).await, (503, ATTEMPTS, 0));
}

#[tokio::test]
async fn numbering_5xx_is_a_503_and_nothing_is_published() {
    assert_eq!(number_with(Fault::ServerError).await, (503, ATTEMPTS, 0));
}

#[tokio::test]
async fn numbering_timeout_is_a_503_after_the_retries_and_nothing_is_published() {
    assert_eq!(number_with(Fault::Timeout).await, (503, ATTEMPTS, 0));
}
