//! The typed events: the callback payload (`lambda:invoke.waitForTaskToken`), an activity task's
//! input, and the EventBridge schedule that starts the poller and the sweep.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use fleet_core::{event, HandlerError};
use serde::Deserialize;
use serde_json::Value;

use crate::approvals::IncomingTask;
use crate::model::Pattern;

/// Step Functions task tokens are 1–2,048 characters.
pub const MAX_TOKEN_CHARS: usize = 2048;

/// What the callback state passes:
/// `{"taskToken.$": "$$.Task.Token", "executionArn.$": "$$.Execution.Id", "workflow": "promotion",
///   "timeoutSeconds": 3600, "input.$": "$"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackPayload {
    pub task_token: String,
    pub input: Value,
    #[serde(default)]
    pub execution_arn: Option<String>,
    #[serde(default)]
    pub workflow: Option<String>,
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
}

fn check_token(token: &str) -> Result<(), HandlerError> {
    let n = token.chars().count();
    if n == 0 || n > MAX_TOKEN_CHARS {
        return Err(HandlerError::invalid_event(format!(
            "the task token has {n} characters; Step Functions tokens have 1 to {MAX_TOKEN_CHARS}"
        )));
    }
    Ok(())
}

/// The callback entry's payload as a task.
pub fn callback(payload: Value) -> Result<IncomingTask, HandlerError> {
    let p: CallbackPayload = event::parse(payload, "a waitForTaskToken payload")?;
    check_token(&p.task_token)?;
    Ok(IncomingTask {
        pattern: Pattern::Callback,
        token: p.task_token,
        input: p.input,
        execution_arn: p.execution_arn,
        workflow: p.workflow,
        timeout_seconds: p.timeout_seconds,
    })
}

/// An activity task. Its input is either the envelope the template's `ManualStep` passes
/// (`{"executionArn", "workflow", "timeoutSeconds", "input"}`) or, as in the seed, the bare input.
/// Input that is not JSON still becomes a task (refused at intake: its token is kept and failed).
pub fn activity(token: String, input: &str) -> Result<IncomingTask, HandlerError> {
    check_token(&token)?;
    let value: Value = serde_json::from_str(input).unwrap_or(Value::String(input.to_owned()));
    let envelope = value
        .as_object()
        .filter(|o| o.get("input").is_some_and(Value::is_object));
    Ok(match envelope {
        Some(o) => IncomingTask {
            pattern: Pattern::Activity,
            token,
            input: o.get("input").cloned().unwrap_or(Value::Null),
            execution_arn: o
                .get("executionArn")
                .and_then(Value::as_str)
                .map(str::to_owned),
            workflow: o.get("workflow").and_then(Value::as_str).map(str::to_owned),
            timeout_seconds: o.get("timeoutSeconds").and_then(Value::as_u64),
        },
        None => IncomingTask {
            pattern: Pattern::Activity,
            token,
            input: value,
            execution_arn: None,
            workflow: None,
            timeout_seconds: None,
        },
    })
}

/// The schedule's event; only its time matters (for the log).
pub fn scheduled(payload: Value) -> Result<EventBridgeEvent<Value>, HandlerError> {
    let event: EventBridgeEvent<Value> = event::parse(payload, "an EventBridge event")?;
    if event.detail_type != "Scheduled Event" {
        return Err(HandlerError::invalid_event(format!(
            "expected a Scheduled Event, got {:?}",
            event.detail_type
        )));
    }
    Ok(event)
}
