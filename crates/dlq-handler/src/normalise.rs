//! Every delivery becomes one [`Failure`]: an on-failure destination record (names the function
//! and its `errorType`), a dead-letter message (the original event with `RequestID`,
//! `ErrorCode`, `ErrorMessage` attributes; the function comes from the configured source map),
//! an SNS notification carried by SQS (unwrapped first), or, when it is none of these, the raw
//! message as `Unparseable`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

use crate::classify::{classify, Evidence, FailureClass};
use crate::model::{Failure, Shape, Via};
use crate::trigger::{sns_delivery, Delivery};
use fleet_core::event::parse;

/// Error messages longer than this are cut (Lambda's DLQ attribute is 1 KB; stack traces in
/// destination records can be long).
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// Which function a dead-letter queue or topic belongs to: a DLQ message does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap(Vec<(String, String)>);

impl SourceMap {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    /// The function (a name or an ARN) mapped to `source_arn`.
    pub fn function_for(&self, source_arn: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(arn, _)| arn == source_arn)
            .map(|(_, f)| f.as_str())
    }
}

impl FromStr for SourceMap {
    type Err = String;

    /// `queue-or-topic-arn=function,…` (a function name or ARN); empty is no mapping.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut pairs = Vec::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (arn, function) = entry
                .split_once('=')
                .map(|(a, f)| (a.trim(), f.trim()))
                .ok_or_else(|| format!("{entry:?} is not queue-or-topic-arn=function"))?;
            if !(arn.starts_with("arn:") && (arn.contains(":sqs:") || arn.contains(":sns:"))) {
                return Err(format!("{arn:?} is not an SQS queue or SNS topic ARN"));
            }
            if function.is_empty() {
                return Err(format!("{entry:?} names no function"));
            }
            pairs.push((arn.to_owned(), function.to_owned()));
        }
        Ok(Self(pairs))
    }
}

impl fmt::Display for SourceMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.0.iter().map(|(a, fun)| format!("{a}={fun}")).collect();
        f.write_str(&entries.join(","))
    }
}

/// An on-failure destination record (what Lambda sends to the destination).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRecord {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    pub request_context: RequestContext,
    #[serde(default)]
    pub request_payload: Value,
    #[serde(default)]
    pub response_context: Option<ResponseContext>,
    #[serde(default)]
    pub response_payload: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    pub request_id: String,
    pub function_arn: String,
    pub condition: String,
    #[serde(default)]
    pub approximate_invoke_count: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseContext {
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub executed_version: Option<String>,
    #[serde(default)]
    pub function_error: Option<String>,
}

/// `arn:aws:lambda:region:account:function:name[:qualifier]` → name.
pub fn function_name(arn_or_name: &str) -> &str {
    if arn_or_name.starts_with("arn:") {
        arn_or_name.split(':').nth(6).unwrap_or(arn_or_name)
    } else {
        arn_or_name
    }
}

/// The delivery as one failure. Never fails: what cannot be read is `Unparseable`.
pub fn normalise(delivery: &Delivery, sources: &SourceMap) -> Failure {
    if let Some(why) = &delivery.parse_error {
        return unparseable(delivery, why);
    }
    let body_json: Option<Value> = serde_json::from_str(&delivery.body).ok();
    if let Some(json) = &body_json {
        if json.pointer("/requestContext/functionArn").is_some() {
            return match parse::<DestinationRecord>(json.clone(), "a destination record") {
                Ok(record) => from_destination(delivery, record),
                Err(e) => unparseable(delivery, &e.message),
            };
        }
    }
    if ["RequestID", "ErrorCode", "ErrorMessage"]
        .iter()
        .any(|k| delivery.attributes.contains_key(*k))
    {
        return from_dead_letter(delivery, sources, None);
    }
    if delivery.via == Via::Sqs {
        if let Some(json) = body_json.filter(is_sns_notification) {
            return match parse::<aws_lambda_events::sns::SnsMessage>(json, "an SNS notification") {
                Ok(message) => {
                    let inner = sns_delivery(message, Via::SnsViaSqs);
                    let mut failure = normalise_inner(&inner, sources, delivery);
                    // A redelivery is recognised by the SQS message that carried it.
                    failure.delivery_id = delivery.id.clone();
                    failure
                }
                Err(e) => unparseable(delivery, &e.message),
            };
        }
    }
    unparseable(
        delivery,
        "neither a destination record nor a dead-letter message (no RequestID, ErrorCode or ErrorMessage attribute)",
    )
}

/// An SNS notification unwrapped from an SQS body: a destination record or a DLQ message.
fn normalise_inner(inner: &Delivery, sources: &SourceMap, outer: &Delivery) -> Failure {
    if let Ok(json) = serde_json::from_str::<Value>(&inner.body) {
        if json.pointer("/requestContext/functionArn").is_some() {
            if let Ok(record) = parse::<DestinationRecord>(json, "a destination record") {
                return from_destination(inner, record);
            }
        }
    }
    if ["RequestID", "ErrorCode", "ErrorMessage"]
        .iter()
        .any(|k| inner.attributes.contains_key(*k))
    {
        return from_dead_letter(inner, sources, outer.source_arn.as_deref());
    }
    unparseable(
        outer,
        "an SNS notification without RequestID, ErrorCode or ErrorMessage attributes",
    )
}

fn is_sns_notification(json: &Value) -> bool {
    json.get("Type").and_then(Value::as_str) == Some("Notification")
        && json.get("TopicArn").is_some()
        && json.get("Message").is_some()
}

fn from_destination(delivery: &Delivery, record: DestinationRecord) -> Failure {
    let context = record.request_context;
    let (error_type, message) = match &record.response_payload {
        Some(Value::Object(payload)) => (
            payload
                .get("errorType")
                .and_then(Value::as_str)
                .map(str::to_owned),
            payload
                .get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| Value::Object(payload.clone()).to_string()),
        ),
        Some(Value::Null) | None => (None, String::new()),
        Some(other) => (None, other.to_string()),
    };
    let message = if message.is_empty() && context.condition == "EventAgeExceeded" {
        "the event was older than the function's maximum event age; Lambda dropped it unprocessed"
            .to_owned()
    } else {
        message
    };
    let status = record
        .response_context
        .as_ref()
        .and_then(|c| c.status_code)
        .map(|s| s.to_string());
    let class = classify(&Evidence {
        error_type: error_type.as_deref(),
        message: &message,
        condition: Some(&context.condition),
        error_code: status.as_deref(),
    });
    let request_id = Some(context.request_id.trim())
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    Failure {
        id: archive_id(request_id.as_deref(), delivery),
        delivery_id: delivery.id.clone(),
        function: Some(function_name(&context.function_arn).to_owned()),
        function_arn: Some(context.function_arn.clone()),
        class,
        error_type,
        error_message: clip(&message),
        error_code: status,
        request_id,
        condition: Some(context.condition),
        attempts: context.approximate_invoke_count,
        shape: Shape::Destination,
        via: delivery.via,
        source_arn: delivery.source_arn.clone(),
        failed_at: record.timestamp.or(delivery.sent_at),
        event: record.request_payload.to_string(),
    }
}

fn from_dead_letter(
    delivery: &Delivery,
    sources: &SourceMap,
    carrier_arn: Option<&str>,
) -> Failure {
    let attribute = |name: &str| delivery.attributes.get(name).cloned();
    let message = attribute("ErrorMessage").unwrap_or_default();
    let code = attribute("ErrorCode");
    let request_id = attribute("RequestID").filter(|r| !r.trim().is_empty());
    let mapped = delivery
        .source_arn
        .as_deref()
        .and_then(|arn| sources.function_for(arn))
        .or_else(|| carrier_arn.and_then(|arn| sources.function_for(arn)));
    let class = classify(&Evidence {
        error_type: None,
        message: &message,
        condition: None,
        error_code: code.as_deref(),
    });
    Failure {
        id: archive_id(request_id.as_deref(), delivery),
        delivery_id: delivery.id.clone(),
        function: mapped.map(|f| function_name(f).to_owned()),
        function_arn: mapped.filter(|f| f.starts_with("arn:")).map(str::to_owned),
        class,
        error_type: None,
        error_message: clip(&message),
        error_code: code,
        request_id,
        condition: None,
        attempts: None,
        shape: Shape::DeadLetter,
        via: delivery.via,
        source_arn: delivery.source_arn.clone(),
        failed_at: delivery.sent_at,
        event: delivery.body.clone(),
    }
}

fn unparseable(delivery: &Delivery, why: &str) -> Failure {
    let mut message = format!("unparseable: {why}");
    if !delivery.attributes.is_empty() {
        let attrs: Vec<String> = delivery
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        message.push_str(&format!(" (attributes: {})", attrs.join(", ")));
    }
    Failure {
        id: bounded(format!("raw-{}", delivery.id)),
        delivery_id: delivery.id.clone(),
        function: None,
        function_arn: None,
        class: FailureClass::Unparseable,
        error_type: None,
        error_message: clip(&message),
        error_code: None,
        request_id: None,
        condition: None,
        attempts: None,
        shape: Shape::Raw,
        via: delivery.via,
        source_arn: delivery.source_arn.clone(),
        failed_at: delivery.sent_at,
        event: delivery.body.clone(),
    }
}

/// At most [`MAX_MESSAGE_BYTES`], cut at a character boundary.
/// Longest archive key kept as it is (DynamoDB allows 2,048 bytes).
const MAX_ID_BYTES: usize = 256;

/// The archive key: the failed invocation's request id when the message names one, else the
/// delivering message's id.
fn archive_id(request_id: Option<&str>, delivery: &Delivery) -> String {
    bounded(match request_id {
        Some(id) => id.to_owned(),
        None => format!("msg-{}", delivery.id),
    })
}

/// A key longer than [`MAX_ID_BYTES`] (from a forged or corrupted message) becomes its digest, so
/// no message is refused by the table forever.
fn bounded(id: String) -> String {
    if id.len() <= MAX_ID_BYTES {
        id
    } else {
        format!("sha256-{}", crate::trigger::digest(id.as_bytes()))
    }
}

fn clip(message: &str) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_owned();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqs_delivery(body: &str) -> Delivery {
        Delivery {
            id: "m-1".into(),
            via: Via::Sqs,
            source_arn: None,
            body: body.into(),
            attributes: Default::default(),
            sent_at: None,
            parse_error: None,
        }
    }

    /// Found by the `dlq_message` fuzz target: a destination record with an empty request id was
    /// archived under an empty key, which DynamoDB refuses, so the message failed on every
    /// delivery. A blank id falls back to the message's; an overlong one becomes its digest.
    #[test]
    fn a_blank_or_overlong_request_id_still_gives_a_usable_archive_key() {
        let record = |request_id: &str| {
            serde_json::json!({
                "version": "1.0",
                "requestContext": {"requestId": request_id, "functionArn": "0000000000", "condition": "RetriesExhausted"}
            })
            .to_string()
        };
        let sources = SourceMap::new([]);
        for blank in ["", "   "] {
            let failure = normalise(&sqs_delivery(&record(blank)), &sources);
            assert_eq!((failure.id.as_str(), failure.request_id), ("msg-m-1", None));
        }
        let long = "r".repeat(5_000);
        let failure = normalise(&sqs_delivery(&record(&long)), &sources);
        assert!(failure.id.starts_with("sha256-") && failure.id.len() <= MAX_ID_BYTES);
        assert_eq!(failure.request_id.as_deref(), Some(long.as_str()));
        let again = normalise(&sqs_delivery(&record(&long)), &sources);
        assert_eq!(again.id, failure.id, "the same message, the same item");
        // An unreadable message is kept under its message id, bounded too.
        let mut unreadable = sqs_delivery("{}");
        unreadable.id = "m".repeat(5_000);
        unreadable.parse_error = Some("not JSON".into());
        let failure = normalise(&unreadable, &sources);
        assert!(failure.id.starts_with("sha256-") && failure.id.len() <= MAX_ID_BYTES);
    }

    #[test]
    fn source_maps_parse_and_refuse_what_is_not_an_arn() {
        let map: SourceMap = "arn:aws:sns:eu-west-1:123456789012:sns-lambda-test=legacy-fn, arn:aws:sqs:eu-west-1:123456789012:q=arn:aws:lambda:eu-west-1:123456789012:function:f"
            .parse()
            .unwrap();
        assert_eq!(
            map.function_for("arn:aws:sns:eu-west-1:123456789012:sns-lambda-test"),
            Some("legacy-fn")
        );
        assert_eq!(
            function_name(
                map.function_for("arn:aws:sqs:eu-west-1:123456789012:q")
                    .unwrap()
            ),
            "f"
        );
        assert_eq!("".parse::<SourceMap>(), Ok(SourceMap::default()));
        assert!("queue=fn".parse::<SourceMap>().is_err());
        assert!("arn:aws:sqs:eu-west-1:1:q".parse::<SourceMap>().is_err());
        assert!("arn:aws:sqs:eu-west-1:1:q=".parse::<SourceMap>().is_err());
    }

    #[test]
    fn function_names_come_from_arns_with_or_without_qualifier() {
        assert_eq!(
            function_name("arn:aws:lambda:eu-west-1:123456789012:function:ec2-scheduler:$LATEST"),
            "ec2-scheduler"
        );
        assert_eq!(
            function_name("arn:aws:lambda:eu-west-1:123456789012:function:ec2-scheduler"),
            "ec2-scheduler"
        );
        assert_eq!(function_name("plain-name"), "plain-name");
    }

    #[test]
    fn long_messages_are_clipped_at_a_char_boundary() {
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let clipped = clip(&long);
        assert!(clipped.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8());
        assert!(clipped.ends_with('…'));
    }
}
