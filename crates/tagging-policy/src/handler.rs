//! The Lambda entry point: a scheduled event or a CloudTrail RunInstances event in, a report out.

use aws_config::SdkConfig;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::aws::{cloudtrail_client, CloudTrailLookup, DynamoRules};
use crate::config::Config;
use crate::identity::creator;
use crate::ports::{CreatorLookup, RuleSource};
use crate::run::{Engine, Report, Trigger};
use fleet_core::clock::lambda_deadline;
use fleet_core::{deliver, Clock, HandlerError, Notifier, SnsNotifier, SystemClock};
use fleet_ec2::{AwsEc2, Ec2Port};

pub type LambdaEngine = Engine<AwsEc2, DynamoRules, CloudTrailLookup, SystemClock>;

/// SDK clients and adapters, built once per container.
pub fn wire(sdk: &SdkConfig, config: Config) -> (LambdaEngine, Option<SnsNotifier>) {
    let engine = Engine {
        ec2: AwsEc2::new(fleet_ec2::client(sdk)),
        rules: DynamoRules::new(aws_sdk_dynamodb::Client::new(sdk), config.rules_table),
        lookup: CloudTrailLookup::new(cloudtrail_client(sdk)),
        clock: SystemClock,
        settings: config.settings,
    };
    let notifier = config
        .report_topic_arn
        .map(|arn| SnsNotifier::new(fleet_core::notify::SnsClient::new(sdk), arn));
    (engine, notifier)
}

/// What the event asks for: a sweep (EventBridge schedule) or the instances a RunInstances call
/// launched, with the caller taken from the event's `userIdentity`.
pub fn trigger(event: &Value) -> Result<Trigger, HandlerError> {
    let invalid = |why: &str| HandlerError::new("InvalidEvent", why.to_owned());
    let detail_type = event
        .get("detail-type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("not an EventBridge event: no detail-type"))?;
    match detail_type {
        "Scheduled Event" => Ok(Trigger::Sweep),
        "AWS API Call via CloudTrail" => {
            let detail = event
                .get("detail")
                .ok_or_else(|| invalid("CloudTrail event without detail"))?;
            let name = detail.get("eventName").and_then(Value::as_str);
            if name != Some("RunInstances") {
                return Err(invalid(&format!(
                    "expected a RunInstances call, got {}",
                    name.unwrap_or("no eventName")
                )));
            }
            // A failed call (errorCode set) launched nothing: its responseElements are null.
            let instance_ids = detail
                .pointer("/responseElements/instancesSet/items")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.get("instanceId").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Ok(Trigger::Launched {
                instance_ids,
                creator: detail.get("userIdentity").and_then(creator),
            })
        }
        other => Err(invalid(&format!("unexpected detail-type {other:?}"))),
    }
}

pub async fn handle<E, R, L, C, N>(
    engine: &Engine<E, R, L, C>,
    notifier: Option<&N>,
    event: LambdaEvent<Value>,
) -> Result<Report, HandlerError>
where
    E: Ec2Port,
    R: RuleSource,
    L: CreatorLookup,
    C: Clock,
    N: Notifier,
{
    let trigger = trigger(&event.payload)?;
    tracing::info!(request_id = %event.context.request_id, trigger = %trigger, "tagging policy run starting");
    let report = engine
        .run(&trigger, lambda_deadline(event.context.deadline))
        .await
        .map_err(|e| HandlerError::from_error(&e))?;
    // The fixes are idempotent, so a retry after a transient failure is safe.
    deliver(report, notifier).await
}
