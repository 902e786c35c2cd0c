//! The IoT adapter against `aws-smithy-mocks`: the endpoint is described once per container,
//! publishes go out with QoS 1, failures are mapped and a failed resolution is not kept.

use aws_sdk_iot::operation::describe_endpoint::{DescribeEndpointError, DescribeEndpointOutput};
use aws_sdk_iotdataplane::operation::publish::{PublishError as SdkPublishError, PublishOutput};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use robot_publisher::aws::IotPublisher;
use robot_publisher::ports::Publisher;

fn describe_ok() -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_iot::Client::describe_endpoint)
        .match_requests(|r| r.endpoint_type() == Some("iot:Data-ATS"))
        .then_output(|| {
            DescribeEndpointOutput::builder()
                .endpoint_address("a1b2c3-ats.iot.eu-west-1.amazonaws.com")
                .build()
        })
}

/// The adapter on mocked clients: `describe` answers DescribeEndpoint, `publish` Publish.
fn publisher(
    describe: &aws_smithy_mocks::Rule,
    publish: &aws_smithy_mocks::Rule,
    endpoint_override: Option<&str>,
) -> IotPublisher {
    IotPublisher::new(
        mock_client!(aws_sdk_iot, RuleMode::Sequential, [describe]),
        mock_client!(aws_sdk_iotdataplane, RuleMode::MatchAny, [publish]),
        endpoint_override.map(str::to_owned),
        None,
    )
}

#[tokio::test]
async fn the_endpoint_is_described_once_and_publishes_use_qos_1() {
    let describe = describe_ok();
    let publish = mock!(aws_sdk_iotdataplane::Client::publish)
        .match_requests(|r| {
            r.topic() == Some("rover/action")
                && r.qos() == Some(1)
                && r.payload().map(|p| p.as_ref()) == Some(br#"{"action":"forward"}"#.as_slice())
        })
        .then_output(|| PublishOutput::builder().build());
    let publisher = publisher(&describe, &publish, None);
    for _ in 0..3 {
        publisher
            .publish("rover/action", br#"{"action":"forward"}"#.to_vec())
            .await
            .unwrap();
    }
    assert_eq!(describe.num_calls(), 1, "resolved once per container");
    assert_eq!(publish.num_calls(), 3);
}

#[tokio::test]
async fn an_endpoint_override_skips_describe_endpoint() {
    let describe = describe_ok();
    let publish = mock!(aws_sdk_iotdataplane::Client::publish)
        .then_output(|| PublishOutput::builder().build());
    let publisher = publisher(
        &describe,
        &publish,
        Some("a1b2c3-ats.iot.eu-west-1.amazonaws.com"),
    );
    publisher
        .publish("rover/action", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(describe.num_calls(), 0);
}

#[tokio::test]
async fn a_failed_resolution_is_retried_on_the_next_request() {
    let describe = mock!(aws_sdk_iot::Client::describe_endpoint)
        .sequence()
        .error(|| {
            DescribeEndpointError::generic(
                aws_sdk_iot::error::ErrorMetadata::builder()
                    .code("UnauthorizedException")
                    .message("not allowed: iot:DescribeEndpoint")
                    .build(),
            )
        })
        .output(|| {
            DescribeEndpointOutput::builder()
                .endpoint_address("a1b2c3-ats.iot.eu-west-1.amazonaws.com")
                .build()
        })
        .build();
    let publish = mock!(aws_sdk_iotdataplane::Client::publish)
        .then_output(|| PublishOutput::builder().build());
    let publisher = publisher(&describe, &publish, None);
    let err = publisher
        .publish("rover/action", b"{}".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.code, "DescribeEndpointFailed");
    assert_eq!(
        err.message,
        "UnauthorizedException: not allowed: iot:DescribeEndpoint"
    );
    assert_eq!(publish.num_calls(), 0);
    publisher
        .publish("rover/action", b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(describe.num_calls(), 2);
}

#[tokio::test]
async fn publish_errors_keep_their_code() {
    let describe = describe_ok();
    let publish = mock!(aws_sdk_iotdataplane::Client::publish).then_error(|| {
        SdkPublishError::generic(
            aws_sdk_iotdataplane::error::ErrorMetadata::builder()
                .code("ForbiddenException")
                .message("not authorized: iot:Publish")
                .build(),
        )
    });
    let publisher = publisher(&describe, &publish, None);
    let err = publisher
        .publish("rover/action", b"{}".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.code, "ForbiddenException");
    assert_eq!(
        err.message,
        "ForbiddenException: not authorized: iot:Publish"
    );
}

/// The counter: one atomic `ADD` on the robot's item, the new value read back; a throttled table
/// is `Throttled` (the handler then publishes nothing), an item that is not a number
/// `CorruptState`.
#[tokio::test]
async fn the_sequence_is_an_atomic_add_and_failures_keep_their_class() {
    use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
    use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
    use robot_publisher::aws::DynamoSequence;
    use robot_publisher::ports::Sequence;
    let added = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| {
            r.table_name() == Some("fleet-state")
                && r.key().and_then(|k| k.get("Id"))
                    == Some(&AttributeValue::S("robot-publisher#sequence#rover".into()))
                && r.update_expression() == Some("ADD #n :one")
                && r.return_values() == Some(&ReturnValue::UpdatedNew)
        })
        .then_output(|| {
            UpdateItemOutput::builder()
                .attributes("Sequence", AttributeValue::N("41".into()))
                .build()
        });
    let throttled = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        UpdateItemError::generic(
            aws_sdk_dynamodb::error::ErrorMetadata::builder()
                .code("ProvisionedThroughputExceededException")
                .message("slow down")
                .build(),
        )
    });
    let garbled = mock!(aws_sdk_dynamodb::Client::update_item).then_output(|| {
        UpdateItemOutput::builder()
            .attributes("Sequence", AttributeValue::S("many".into()))
            .build()
    });
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::Sequential,
        [&added, &throttled, &garbled],
        |c| c.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
    );
    let sequence = DynamoSequence::new(client, "fleet-state", "rover");
    assert_eq!(sequence.next().await.unwrap(), 41);
    let err = sequence.next().await.unwrap_err();
    assert_eq!(err.class, fleet_core::ErrorClass::Throttled, "{err}");
    let err = sequence.next().await.unwrap_err();
    assert_eq!(err.class, fleet_core::ErrorClass::CorruptState, "{err}");
}
