//! The typed events the handler is invoked with: an SQS batch (the failure queue, SQS
//! dead-letter queues), an SNS notification (an SNS dead-letter topic), and its own digest
//! schedule. Anything else is kept as one raw delivery, so nothing it was given is dropped.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sns::SnsEvent;
use aws_lambda_events::sqs::SqsEvent;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::model::Via;
use fleet_core::event::parse;

/// One message as it arrived: the unit that succeeds or fails (`batchItemFailures`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// SQS message id, SNS message id, or for a raw payload a digest of it.
    pub id: String,
    pub via: Via,
    /// The queue (`eventSourceARN`) or topic (`TopicArn`).
    pub source_arn: Option<String>,
    pub body: String,
    /// Message attributes with a string value (`RequestID`, `ErrorCode`, `ErrorMessage`).
    pub attributes: BTreeMap<String, String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Why the envelope could not be read, for a raw delivery.
    pub parse_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    Sqs(Vec<Delivery>),
    Sns(Vec<Delivery>),
    /// The handler's own schedule: send the digests of the windows that closed.
    Digest {
        at: DateTime<Utc>,
    },
    /// Not an event the handler knows; archived raw.
    Raw(Delivery),
}

/// The payload as its typed event. Never fails: what cannot be read is a [`Trigger::Raw`].
pub fn parse_trigger(payload: Value) -> Trigger {
    let first_source = payload
        .pointer("/Records/0/eventSource")
        .or_else(|| payload.pointer("/Records/0/EventSource"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match first_source.as_deref() {
        Some("aws:sqs") => match parse::<SqsEvent>(payload.clone(), "an SQS event") {
            Ok(event) => Trigger::Sqs(event.records.into_iter().map(sqs_delivery).collect()),
            Err(e) => Trigger::Raw(raw(&payload, Some(e.message))),
        },
        Some("aws:sns") => match parse::<SnsEvent>(payload.clone(), "an SNS event") {
            Ok(event) => Trigger::Sns(
                event
                    .records
                    .into_iter()
                    .map(|r| sns_delivery(r.sns, Via::Sns))
                    .collect(),
            ),
            Err(e) => Trigger::Raw(raw(&payload, Some(e.message))),
        },
        _ if is_scheduled(&payload) => {
            match parse::<EventBridgeEvent<Value>>(payload.clone(), "a scheduled event") {
                Ok(EventBridgeEvent { time: Some(at), .. }) => Trigger::Digest { at },
                Ok(_) => Trigger::Raw(raw(
                    &payload,
                    Some("a scheduled event without `time`".to_owned()),
                )),
                Err(e) => Trigger::Raw(raw(&payload, Some(e.message))),
            }
        }
        _ => Trigger::Raw(raw(
            &payload,
            Some("not an SQS, SNS or scheduled event".to_owned()),
        )),
    }
}

fn is_scheduled(payload: &Value) -> bool {
    payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
        && payload.get("source").and_then(Value::as_str) == Some("aws.events")
}

fn sqs_delivery(message: aws_lambda_events::sqs::SqsMessage) -> Delivery {
    let body = message.body.unwrap_or_default();
    let attributes = message
        .message_attributes
        .into_iter()
        .filter_map(|(name, a)| a.string_value.map(|v| (name, v)))
        .collect();
    let sent_at = message
        .attributes
        .get("SentTimestamp")
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis);
    Delivery {
        id: message
            .message_id
            .unwrap_or_else(|| format!("sha256-{}", digest(body.as_bytes()))),
        via: Via::Sqs,
        source_arn: message.event_source_arn,
        body,
        attributes,
        sent_at,
        parse_error: None,
    }
}

/// An SNS notification: a record of an SNS event, or the JSON body SNS puts on an SQS queue.
pub(crate) fn sns_delivery(message: aws_lambda_events::sns::SnsMessage, via: Via) -> Delivery {
    Delivery {
        id: message.message_id,
        via,
        source_arn: Some(message.topic_arn),
        attributes: message
            .message_attributes
            .into_iter()
            .map(|(name, a)| (name, a.value))
            .collect(),
        body: message.message,
        sent_at: Some(message.timestamp),
        parse_error: None,
    }
}

fn raw(payload: &Value, why: Option<String>) -> Delivery {
    let body = payload.to_string();
    Delivery {
        id: format!("sha256-{}", digest(body.as_bytes())),
        via: Via::Invocation,
        source_arn: None,
        body,
        attributes: BTreeMap::new(),
        sent_at: None,
        parse_error: why,
    }
}

/// The first 128 bits of SHA-256, hex: a stable id for content without one.
pub(crate) fn digest(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..16])
}
