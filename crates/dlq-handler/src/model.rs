//! The one normalised failure record, whatever brought it (an SQS dead-letter message, an SNS
//! dead-letter notification, an on-failure destination record), and what the archive keeps.

use chrono::{DateTime, Utc};
use std::fmt;
use std::str::FromStr;

use crate::classify::FailureClass;

/// How a failure reached the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A record of an SQS event (the failure queue, or an SQS dead-letter queue).
    Sqs,
    /// A record of an SNS event (an SNS dead-letter topic subscribed directly).
    Sns,
    /// An SNS notification delivered to an SQS queue (the SNS JSON is the SQS body).
    SnsViaSqs,
    /// A direct invocation whose payload is no event the handler knows.
    Invocation,
}

/// What Lambda (or whoever) sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An on-failure destination record: names the function and carries `errorType`.
    Destination,
    /// A dead-letter message: the original event with `RequestID`/`ErrorCode`/`ErrorMessage`.
    DeadLetter,
    /// Anything else, kept raw.
    Raw,
}

impl Shape {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Destination => "destination",
            Self::DeadLetter => "dead-letter",
            Self::Raw => "raw",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "destination" => Self::Destination,
            "dead-letter" => Self::DeadLetter,
            _ => Self::Raw,
        }
    }
}

/// One failed invocation (or one unparseable message), normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The archive key: the failed invocation's request id when known (the same failure
    /// delivered twice is one item), else `msg-<message id>` / `raw-<message id>`.
    pub id: String,
    /// The id of the message that delivered it (SQS message id or SNS message id): a
    /// redelivery of the same message is not counted twice.
    pub delivery_id: String,
    /// The function's name; `None` when the source does not say and no mapping names it.
    pub function: Option<String>,
    /// The function's ARN as the destination record gave it (with its qualifier).
    pub function_arn: Option<String>,
    pub class: FailureClass,
    /// `responsePayload.errorType` (destination records only).
    pub error_type: Option<String>,
    pub error_message: String,
    /// The DLQ's `ErrorCode` attribute (the invoke's HTTP status), or the destination's
    /// `responseContext.statusCode`.
    pub error_code: Option<String>,
    pub request_id: Option<String>,
    /// `RetriesExhausted` / `EventAgeExceeded` (destination records only).
    pub condition: Option<String>,
    /// `approximateInvokeCount` (destination records only).
    pub attempts: Option<u32>,
    pub shape: Shape,
    pub via: Via,
    /// The queue or topic it came from.
    pub source_arn: Option<String>,
    /// When Lambda gave up (the destination's timestamp), or when the message was sent.
    pub failed_at: Option<DateTime<Utc>>,
    /// The original event as JSON text (for `Raw`: the message exactly as received).
    pub event: String,
}

impl Failure {
    /// The function's name, or `Unknown`.
    pub fn function_name(&self) -> &str {
        self.function.as_deref().unwrap_or(UNKNOWN_FUNCTION)
    }
}

pub const UNKNOWN_FUNCTION: &str = "Unknown";

/// Where the original event is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredEvent {
    /// In the archive item itself.
    Inline(String),
    /// Too large for an item: in the spill bucket.
    Spilled { location: SpillLocation, bytes: u64 },
}

/// `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpillLocation {
    pub bucket: String,
    pub key: String,
}

impl fmt::Display for SpillLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

impl FromStr for SpillLocation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{s:?} is not an s3:// location"))?;
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok(Self {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            }),
            _ => Err(format!("{s:?} has no bucket and key")),
        }
    }
}

/// An archive item's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    New,
    Replayed,
    Resolved,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Replayed => "replayed",
            Self::Resolved => "resolved",
        }
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "new" => Ok(Self::New),
            "replayed" => Ok(Self::Replayed),
            "resolved" => Ok(Self::Resolved),
            other => Err(format!(
                "{other:?} is not a status (new, replayed, resolved)"
            )),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failure as the archive writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveWrite {
    pub failure: Failure,
    pub event: StoredEvent,
    pub seen_at: DateTime<Utc>,
    /// The digest window this failure is counted in (when it was first seen).
    pub window: DateTime<Utc>,
    /// The item's TTL.
    pub expires_at: DateTime<Utc>,
}

/// What the archive did with one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new item, or one more delivery of a known failure (its count went up).
    Archived,
    /// This very message was archived before (a redelivery): nothing changed.
    AlreadyCounted,
}

/// One archive item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedFailure {
    pub id: String,
    pub function: Option<String>,
    pub function_arn: Option<String>,
    pub class: FailureClass,
    pub error_type: Option<String>,
    pub error_message: String,
    pub error_code: Option<String>,
    pub request_id: Option<String>,
    pub condition: Option<String>,
    pub attempts: Option<u32>,
    pub shape: Shape,
    pub source_arn: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
    /// Distinct deliveries of this failure.
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub window: DateTime<Utc>,
    pub status: Status,
    pub event: StoredEvent,
    pub expires_at: DateTime<Utc>,
    pub replays: u64,
    pub replayed_at: Option<DateTime<Utc>>,
    /// The request ids Lambda gave the replayed invocations (a replay that fails again is
    /// archived under that id).
    pub replay_request_ids: Vec<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl ArchivedFailure {
    pub fn function_name(&self) -> &str {
        self.function.as_deref().unwrap_or(UNKNOWN_FUNCTION)
    }

    /// A new item as [`ArchiveWrite`] describes it: what both adapters store on first sight.
    pub fn first(write: &ArchiveWrite) -> Self {
        let f = &write.failure;
        Self {
            id: f.id.clone(),
            function: f.function.clone(),
            function_arn: f.function_arn.clone(),
            class: f.class,
            error_type: f.error_type.clone(),
            error_message: f.error_message.clone(),
            error_code: f.error_code.clone(),
            request_id: f.request_id.clone(),
            condition: f.condition.clone(),
            attempts: f.attempts,
            shape: f.shape,
            source_arn: f.source_arn.clone(),
            failed_at: f.failed_at,
            count: 1,
            first_seen: write.seen_at,
            last_seen: write.seen_at,
            window: write.window,
            status: Status::New,
            event: write.event.clone(),
            expires_at: write.expires_at,
            replays: 0,
            replayed_at: None,
            replay_request_ids: Vec::new(),
            resolved_at: None,
        }
    }
}

/// Which items `fleet dlq list` and a bulk replay select.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub function: Option<String>,
    pub class: Option<FailureClass>,
    /// Last seen at or after.
    pub since: Option<DateTime<Utc>>,
    pub status: Option<Status>,
}

impl Filter {
    pub fn matches(&self, item: &ArchivedFailure) -> bool {
        self.function
            .as_deref()
            .is_none_or(|f| item.function_name() == f)
            && self.class.is_none_or(|c| item.class == c)
            && self.since.is_none_or(|t| item.last_seen >= t)
            && self.status.is_none_or(|s| item.status == s)
    }
}

/// The start of the digest window holding `t`: windows are aligned to the epoch.
pub fn window_start(t: DateTime<Utc>, length: chrono::Duration) -> DateTime<Utc> {
    let len = length.num_seconds().max(1);
    let start = t.timestamp().div_euclid(len) * len;
    DateTime::<Utc>::from_timestamp(start, 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_to_the_epoch() {
        let t: DateTime<Utc> = "2026-11-23T09:14:59.900Z".parse().unwrap();
        let w = chrono::Duration::minutes(15);
        assert_eq!(window_start(t, w).to_rfc3339(), "2026-11-23T09:00:00+00:00");
        let t: DateTime<Utc> = "2026-11-23T09:15:00Z".parse().unwrap();
        assert_eq!(window_start(t, w).to_rfc3339(), "2026-11-23T09:15:00+00:00");
    }

    #[test]
    fn spill_locations_round_trip() {
        let l: SpillLocation = "s3://bucket/events/f/id.json".parse().unwrap();
        assert_eq!(l.bucket, "bucket");
        assert_eq!(l.key, "events/f/id.json");
        assert_eq!(l.to_string(), "s3://bucket/events/f/id.json");
        assert!("bucket/key".parse::<SpillLocation>().is_err());
        assert!("s3://bucket".parse::<SpillLocation>().is_err());
    }
}
