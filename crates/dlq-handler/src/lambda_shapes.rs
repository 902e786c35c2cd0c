//! What Lambda sends when an asynchronous invocation fails for good, built from a fleet
//! function's [`HandlerError`] (or from Lambda's own `errorType`/`errorMessage`), and the SQS and
//! SNS events that deliver it to the handler. Tests, the sample events, the benchmark and the
//! cross-crate end-to-end test build their inputs here, so they have the shapes AWS documents:
//!
//! - DLQ message: body = the original event; attributes `RequestID` (String), `ErrorCode`
//!   (Number: the invoke's HTTP status, 200 for a function error), `ErrorMessage` (String, the
//!   first 1 KB).
//! - On-failure destination record: `version`, `timestamp`, `requestContext{requestId,
//!   functionArn, condition, approximateInvokeCount}`, `requestPayload`,
//!   `responseContext{statusCode, executedVersion, functionError}`,
//!   `responsePayload{errorType, errorMessage}`.

use chrono::{DateTime, SecondsFormat, Utc};
use fleet_core::HandlerError;
use lambda_runtime::Diagnostic;
use serde_json::{json, Map, Value};

/// Lambda keeps the first 1 KB of the error message in a DLQ message's `ErrorMessage`.
pub const DLQ_MESSAGE_BYTES: usize = 1024;

/// Why Lambda gave up on an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    RetriesExhausted,
    EventAgeExceeded,
}

impl Condition {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RetriesExhausted => "RetriesExhausted",
            Self::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

/// What a failed invocation returned: a fleet function's error as the runtime reports it.
pub fn diagnostic(error: &HandlerError) -> Diagnostic {
    error.clone().into()
}

/// The on-failure destination record Lambda sends after `attempts` failed attempts of `event`.
pub fn destination_record(
    function_arn: &str,
    request_id: &str,
    event: &Value,
    failure: &Diagnostic,
    attempts: u32,
    at: DateTime<Utc>,
) -> Value {
    json!({
        "version": "1.0",
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "requestContext": {
            "requestId": request_id,
            "functionArn": qualified(function_arn),
            "condition": Condition::RetriesExhausted.as_str(),
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorType": failure.error_type,
            "errorMessage": failure.error_message,
        },
    })
}

/// The record Lambda sends when an event waited longer than the maximum event age: the function
/// never answered, so there is no response.
pub fn expired_record(
    function_arn: &str,
    request_id: &str,
    event: &Value,
    attempts: u32,
    at: DateTime<Utc>,
) -> Value {
    json!({
        "version": "1.0",
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "requestContext": {
            "requestId": request_id,
            "functionArn": qualified(function_arn),
            "condition": Condition::EventAgeExceeded.as_str(),
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
    })
}

/// Lambda names the version it ran: `$LATEST` for an unqualified invoke.
fn qualified(function_arn: &str) -> String {
    if function_arn.split(':').count() >= 8 {
        function_arn.to_owned()
    } else {
        format!("{function_arn}:$LATEST")
    }
}

/// The attributes of the DLQ message Lambda sends for `failure`: (name, data type, value).
pub fn dlq_attributes(
    request_id: &str,
    error_code: u16,
    error_message: &str,
) -> Vec<(&'static str, &'static str, String)> {
    let mut end = error_message.len().min(DLQ_MESSAGE_BYTES);
    while !error_message.is_char_boundary(end) {
        end -= 1;
    }
    vec![
        ("RequestID", "String", request_id.to_owned()),
        ("ErrorCode", "Number", error_code.to_string()),
        ("ErrorMessage", "String", error_message[..end].to_owned()),
    ]
}

/// One record of an SQS event as Lambda's event source mapping delivers it.
pub fn sqs_record(
    message_id: &str,
    queue_arn: &str,
    body: &str,
    attributes: &[(&str, &str, String)],
    sent_at: DateTime<Utc>,
) -> Value {
    let message_attributes: Map<String, Value> = attributes
        .iter()
        .map(|(name, data_type, value)| {
            (
                (*name).to_owned(),
                json!({
                    "stringValue": value,
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": data_type,
                }),
            )
        })
        .collect();
    let region = queue_arn.split(':').nth(3).unwrap_or("eu-west-1");
    json!({
        "messageId": message_id,
        "receiptHandle": format!("AQEB{message_id}"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": at_millis(sent_at),
            "SenderId": "AROAEXAMPLE:awslambda_1_20261123090000",
            "ApproximateFirstReceiveTimestamp": at_millis(sent_at),
        },
        "messageAttributes": message_attributes,
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    })
}

/// An SQS event of `records`.
pub fn sqs_event(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

/// An SNS event (a DLQ topic subscribed by the handler) carrying one notification.
pub fn sns_event(
    topic_arn: &str,
    message_id: &str,
    message: &str,
    attributes: &[(&str, &str, String)],
    at: DateTime<Utc>,
) -> Value {
    let message_attributes: Map<String, Value> = attributes
        .iter()
        .map(|(name, data_type, value)| {
            (
                (*name).to_owned(),
                json!({ "Type": data_type, "Value": value }),
            )
        })
        .collect();
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"),
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": topic_arn,
                "Subject": null,
                "Message": message,
                "Timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                "UnsubscribeUrl": format!("https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"),
                "MessageAttributes": message_attributes,
            }
        }]
    })
}

fn at_millis(at: DateTime<Utc>) -> String {
    at.timestamp_millis().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_core::ErrorClass;

    #[test]
    fn a_fleet_error_becomes_the_record_lambda_sends() {
        let error = HandlerError::new(
            ErrorClass::NotFound,
            "DynamoDB: ResourceNotFoundException: Requested resource not found",
        );
        let at = "2026-11-23T09:00:05Z".parse().unwrap();
        let record = destination_record(
            "arn:aws:lambda:eu-west-1:123456789012:function:ec2-scheduler",
            "r-1",
            &json!({"detail-type": "Scheduled Event"}),
            &diagnostic(&error),
            3,
            at,
        );
        assert_eq!(record["responsePayload"]["errorType"], "NotFound");
        assert_eq!(
            record["requestContext"]["functionArn"],
            "arn:aws:lambda:eu-west-1:123456789012:function:ec2-scheduler:$LATEST"
        );
        assert_eq!(record["timestamp"], "2026-11-23T09:00:05.000Z");
        let attributes = dlq_attributes("r-1", 200, &"x".repeat(3000));
        assert_eq!(attributes[2].2.len(), DLQ_MESSAGE_BYTES);
        assert_eq!(attributes[1], ("ErrorCode", "Number", "200".to_owned()));
    }
}
