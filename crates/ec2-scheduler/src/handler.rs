//! The Lambda entry point: an EventBridge scheduled event in, a run report out.

use aws_config::SdkConfig;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::aws::{AwsEc2, DynamoState};
use crate::config::Config;
use crate::ports::{Ec2Port, StateStore};
use crate::run::{RunReport, Scheduler};
use fleet_core::clock::lambda_deadline;
use fleet_core::{deliver, Clock, HandlerError, Notifier, SnsNotifier, SystemClock};

/// The EC2 adapter on a client that backs off on throttling.
pub fn ec2_adapter(sdk: &SdkConfig) -> AwsEc2 {
    AwsEc2::new(fleet_ec2::client(sdk))
}

pub fn state_adapter(sdk: &SdkConfig, table: impl Into<String>) -> DynamoState {
    DynamoState::new(aws_sdk_dynamodb::Client::new(sdk), table)
}

/// SDK clients and adapters, built once per container.
pub fn wire(
    sdk: &SdkConfig,
    config: Config,
) -> (
    Scheduler<AwsEc2, DynamoState, SystemClock>,
    Option<SnsNotifier>,
) {
    let scheduler = Scheduler {
        ec2: ec2_adapter(sdk),
        state: state_adapter(sdk, config.state_table),
        clock: SystemClock,
        settings: config.settings,
    };
    let notifier = config
        .report_topic_arn
        .map(|arn| SnsNotifier::new(fleet_core::notify::SnsClient::new(sdk), arn));
    (scheduler, notifier)
}

/// The scheduled instant: the event's `time` (so catch-up windows are exact), and Lambda's
/// deadline (0 in a hand-built context means "none").
pub fn event_time(event: &Value) -> Result<DateTime<Utc>, HandlerError> {
    let parsed: EventBridgeEvent<Value> = serde_json::from_value(event.clone())
        .map_err(|e| HandlerError::new("InvalidEvent", format!("not an EventBridge event: {e}")))?;
    parsed
        .time
        .ok_or_else(|| HandlerError::new("InvalidEvent", "the event has no `time`"))
}

pub async fn handle<E, S, C, N>(
    scheduler: &Scheduler<E, S, C>,
    notifier: Option<&N>,
    event: LambdaEvent<Value>,
) -> Result<RunReport, HandlerError>
where
    E: Ec2Port,
    S: StateStore,
    C: Clock,
    N: Notifier,
{
    let now = event_time(&event.payload)?;
    let deadline = lambda_deadline(event.context.deadline);
    tracing::info!(request_id = %event.context.request_id, at = %now, "scheduler run starting");
    let report = scheduler
        .run(now, deadline)
        .await
        .map_err(|e| HandlerError::from_error(&e))?;
    // A transient failure leaves the state table where it was: the retry (and the next tick)
    // cover this window again.
    deliver(report, notifier).await
}
