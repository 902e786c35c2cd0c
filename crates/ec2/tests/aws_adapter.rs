//! The SDK adapter against `aws-smithy-mocks`: the filters it sends and what it reads back.

use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::create_tags::CreateTagsError;
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::primitives::DateTime as SdkTime;
use aws_sdk_ec2::types::{
    Instance, InstanceNetworkInterface, InstanceNetworkInterfaceAttachment, InstanceState,
    InstanceStateName, Reservation, Tag,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use fleet_ec2::{AwsEc2, Ec2ErrorKind, Ec2Port, InstanceQuery};

#[tokio::test]
async fn vpc_and_id_filters_are_sent_and_the_original_launch_is_read_from_the_primary_interface() {
    let describe = mock!(aws_sdk_ec2::Client::describe_instances)
        .match_requests(|r| {
            let values = |name: &str| {
                r.filters()
                    .iter()
                    .find(|f| f.name() == Some(name))
                    .map(|f| f.values().to_vec())
            };
            values("vpc-id") == Some(vec!["vpc-a".to_owned(), "vpc-b".to_owned()])
                && values("instance-id") == Some(vec!["i-1".to_owned()])
                && values("tag-key").is_none()
                && values("instance-state-name")
                    .is_some_and(|v| !v.contains(&"terminated".to_owned()))
        })
        .then_output(|| {
            let interface = |index: i32, at: i64| {
                InstanceNetworkInterface::builder()
                    .attachment(
                        InstanceNetworkInterfaceAttachment::builder()
                            .device_index(index)
                            .attach_time(SdkTime::from_secs(at))
                            .build(),
                    )
                    .build()
            };
            DescribeInstancesOutput::builder()
                .reservations(
                    Reservation::builder()
                        .instances(
                            Instance::builder()
                                .instance_id("i-1")
                                .vpc_id("vpc-a")
                                .state(
                                    InstanceState::builder()
                                        .name(InstanceStateName::Running)
                                        .build(),
                                )
                                .launch_time(SdkTime::from_secs(1_800_000_000))
                                // A secondary interface attached later must not count.
                                .network_interfaces(interface(1, 1_790_000_000))
                                .network_interfaces(interface(0, 1_700_000_000))
                                .tags(Tag::builder().key("Owner").value("").build())
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let ec2 = AwsEc2::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&describe]));
    let query = InstanceQuery {
        tag_key: None,
        vpc_ids: vec!["vpc-a".into(), "vpc-b".into()],
        instance_ids: vec!["i-1".into()],
    };
    let page = ec2.describe_page(&query, None).await.unwrap();
    let i = &page.instances[0];
    assert_eq!(i.vpc_id.as_deref(), Some("vpc-a"));
    assert_eq!(
        i.tag("Owner"),
        Some(""),
        "an empty value is kept, not dropped"
    );
    assert_eq!(i.created_at.map(|t| t.timestamp()), Some(1_700_000_000));
    assert_eq!(i.launch_time.map(|t| t.timestamp()), Some(1_800_000_000));
    assert_eq!(describe.num_calls(), 1);
}

#[tokio::test]
async fn create_tags_sends_every_id_and_maps_a_missing_instance() {
    let tags = mock!(aws_sdk_ec2::Client::create_tags)
        .match_requests(|r| {
            r.resources() == ["i-1", "i-2"]
                && r.tags().len() == 1
                && r.tags()[0].key() == Some("ProjectCode")
                && r.tags()[0].value() == Some("Proj007")
        })
        .then_error(|| {
            CreateTagsError::generic(
                ErrorMetadata::builder()
                    .code("InvalidInstanceID.NotFound")
                    .message("The instance ID 'i-2' does not exist")
                    .build(),
            )
        });
    let ec2 = AwsEc2::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&tags]));
    let err = ec2
        .create_tags(
            &["i-1".into(), "i-2".into()],
            &[("ProjectCode".into(), "Proj007".into())],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, Ec2ErrorKind::NotFound);
    assert_eq!(err.code, "InvalidInstanceID.NotFound");
}

/// The contract's wrong-state case, which the stand-in cannot show (it accepts stopping a
/// terminated instance): EC2's `IncorrectInstanceState` for the call becomes `IncorrectState`.
#[tokio::test]
async fn stopping_a_terminated_instance_is_an_incorrect_state_for_the_whole_call() {
    use aws_sdk_ec2::operation::stop_instances::StopInstancesError;
    let stop = mock!(aws_sdk_ec2::Client::stop_instances)
        .match_requests(|r| r.instance_ids() == ["i-running", "i-terminated"])
        .then_error(|| {
            StopInstancesError::generic(
                ErrorMetadata::builder()
                    .code("IncorrectInstanceState")
                    .message("The instance 'i-terminated' is not in a state from which it can be stopped.")
                    .build(),
            )
        });
    let ec2 = AwsEc2::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&stop]));
    let err = ec2
        .change_state(
            fleet_ec2::StateChange::Stop,
            &["i-running".into(), "i-terminated".into()],
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, Ec2ErrorKind::IncorrectState);
    assert_eq!(
        fleet_core::Classified::class(&err),
        fleet_core::ErrorClass::Conflict
    );
}
