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

/// How far a scheduled event's `time` may be ahead of the function's clock. EventBridge stamps the
/// scheduled instant and invokes within seconds; an event further ahead was sent by hand or comes
/// from a clock that is badly off, and acting on it would carry out a later day's work now.
pub const MAX_AHEAD_OF_CLOCK: chrono::Duration = chrono::Duration::minutes(2);

impl ScheduledRun {
    /// `InvalidEvent` when the run's instant is more than [`MAX_AHEAD_OF_CLOCK`] after `clock_now`.
    pub fn check_against_clock(&self, clock_now: DateTime<Utc>) -> Result<(), HandlerError> {
        if self.at > clock_now + MAX_AHEAD_OF_CLOCK {
            return Err(HandlerError::invalid_event(format!(
                "the event's time {} is more than {} minutes ahead of the function's clock ({}); \
                 nothing was changed",
                self.at.to_rfc3339(),
                MAX_AHEAD_OF_CLOCK.num_minutes(),
                clock_now.to_rfc3339()
            )));
        }
        Ok(())
    }
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
