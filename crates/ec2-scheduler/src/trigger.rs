//! The scheduled event (EventBridge "Scheduled Event") → the run it asks for.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde_json::Value;

use fleet_core::HandlerError;

/// One scheduled run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledRun {
    /// The run's instant: the event's `time`, so catch-up windows are exact.
    pub at: DateTime<Utc>,
    /// The event's `id`: the same for Lambda's retries of one scheduled event.
    pub event_id: Option<String>,
}

pub fn parse(payload: Value) -> Result<ScheduledRun, HandlerError> {
    let event: EventBridgeEvent<Value> = fleet_core::event::parse(payload, "an EventBridge event")?;
    let at = event
        .time
        .ok_or_else(|| HandlerError::invalid_event("the event has no `time`"))?;
    Ok(ScheduledRun {
        at,
        event_id: event.id,
    })
}
