//! The events that start a run: the EventBridge schedule (a sweep) or a CloudTrail RunInstances
//! call (the instances it launched, with the caller as creator).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use crate::identity::creator;
use crate::run::Trigger;
use fleet_core::HandlerError;

/// The `detail` of an "AWS API Call via CloudTrail" event, as far as the policy reads it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiCall {
    event_name: Option<String>,
    #[serde(default)]
    user_identity: Option<Value>,
    /// Null for a failed call (`errorCode` set): it launched nothing.
    #[serde(default)]
    response_elements: Option<RunInstancesResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunInstancesResponse {
    #[serde(default)]
    instances_set: Option<InstancesSet>,
}

#[derive(Debug, Deserialize)]
struct InstancesSet {
    #[serde(default)]
    items: Vec<Launched>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Launched {
    instance_id: Option<String>,
}

/// The event's `id`: the same for Lambda's retries of it.
pub fn event_id(payload: &Value) -> Option<String> {
    payload.get("id")?.as_str().map(str::to_owned)
}

/// What the event asks for: a sweep or the instances a RunInstances call launched.
pub fn parse(payload: Value) -> Result<Trigger, HandlerError> {
    let event: EventBridgeEvent<Value> = fleet_core::event::parse(payload, "an EventBridge event")?;
    match event.detail_type.as_str() {
        "Scheduled Event" => Ok(Trigger::Sweep),
        "AWS API Call via CloudTrail" => {
            let call: ApiCall = fleet_core::event::parse(event.detail, "a CloudTrail API call")?;
            if call.event_name.as_deref() != Some("RunInstances") {
                return Err(HandlerError::invalid_event(format!(
                    "expected a RunInstances call, got {}",
                    call.event_name.as_deref().unwrap_or("no eventName")
                )));
            }
            let instance_ids = call
                .response_elements
                .and_then(|r| r.instances_set)
                .map(|set| {
                    set.items
                        .into_iter()
                        .filter_map(|i| i.instance_id)
                        .collect()
                })
                .unwrap_or_default();
            Ok(Trigger::Launched {
                instance_ids,
                creator: call.user_identity.as_ref().and_then(creator),
            })
        }
        other => Err(HandlerError::invalid_event(format!(
            "unexpected detail-type {other:?}"
        ))),
    }
}
