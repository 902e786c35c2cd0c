//! The one typed event boundary: every trigger is parsed into its `aws_lambda_events` type (or
//! the function's own model where none exists) here, and anything that does not parse is an
//! `InvalidEvent` whose message names the field that is wrong.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::HandlerError;

/// `payload` as `T`. `what` names the expected event in the message: "an EventBridge event".
pub fn parse<T: DeserializeOwned>(payload: Value, what: &str) -> Result<T, HandlerError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            HandlerError::invalid_event(format!("not {what}: {inner}"))
        } else {
            HandlerError::invalid_event(format!("not {what}: {path}: {inner}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorClass;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Scheduled {
        time: chrono::DateTime<chrono::Utc>,
        detail: Detail,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Detail {
        count: u32,
    }

    #[test]
    fn a_bad_event_is_invalid_event_naming_the_field() {
        let err = parse::<Scheduled>(
            json!({"time": "yesterday", "detail": {"count": 1}}),
            "a test event",
        )
        .unwrap_err();
        assert_eq!(err.class, ErrorClass::InvalidEvent);
        assert!(
            err.message.starts_with("not a test event: time: "),
            "{}",
            err.message
        );
        let err = parse::<Scheduled>(
            json!({"time": "2026-11-23T08:00:00Z", "detail": {"count": "x"}}),
            "a test event",
        )
        .unwrap_err();
        assert!(
            err.message.starts_with("not a test event: detail.count: "),
            "{}",
            err.message
        );
        let err = parse::<Scheduled>(json!("hello"), "a test event").unwrap_err();
        assert!(
            err.message.starts_with("not a test event: invalid type"),
            "{}",
            err.message
        );
        assert!(parse::<Scheduled>(
            json!({"time": "2026-11-23T08:00:00Z", "detail": {"count": 2}}),
            "a test event"
        )
        .is_ok());
    }
}
