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
