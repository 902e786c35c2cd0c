//! Replay: which archived failures may be sent again, and sending them (Lambda `Invoke`,
//! `InvocationType=Event`, the original event unchanged) at a given rate.
//!
//! Refused always: an unparseable message (there is no event), a failure whose function is
//! unknown, an event whose meaning is bound to its instant (an EventBridge scheduled event: the
//! scheduler and the tagging policy act on "now = the event's time", and their next scheduled run
//! already covers the missed one). Refused without `--force`: classes that would fail the same
//! way until something is fixed, and items already replayed or resolved.

use chrono::{DateTime, Utc};
use fleet_core::{Clock, ErrorClass, ServiceError};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::classify::{FailureClass, ReplayAdvice};
use crate::model::{ArchivedFailure, Filter, Status, StoredEvent};
use crate::ports::{Archive, EventSpill, Invoker, Pause};

/// Why an item is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// An unparseable message: there is no event to send.
    NoEvent,
    /// The source did not name the function (map the queue or topic in `DLQ_SOURCES`).
    UnknownFunction,
    /// The event's meaning is bound to its instant.
    BoundToInstant {
        time: Option<String>,
    },
    /// The event is spilled and could not be read back.
    EventUnreadable(String),
    /// The class fails the same way until something is fixed.
    FailsTheSameWay(FailureClass),
    AlreadyReplayed(Option<DateTime<Utc>>),
    Resolved,
}

impl Refusal {
    /// `--force` sends it anyway.
    pub fn overridable(&self) -> bool {
        matches!(
            self,
            Self::FailsTheSameWay(_) | Self::AlreadyReplayed(_) | Self::Resolved
        )
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoEvent => write!(f, "an unparseable message has no event to replay"),
            Self::UnknownFunction => write!(f, "the function is unknown (a dead-letter message does not name it: map its queue or topic in DLQ_SOURCES)"),
            Self::BoundToInstant { time } => write!(
                f,
                "a scheduled event{} means \"run at that instant\": replayed now it would act on a past instant, and the function's next scheduled run already covers the missed one",
                time.as_deref().map(|t| format!(" (time {t})")).unwrap_or_default()
            ),
            Self::EventUnreadable(e) => write!(f, "the spilled event could not be read: {e}"),
            Self::FailsTheSameWay(class) => write!(
                f,
                "{class} would fail the same way: {} (--force to send anyway)",
                class.advice().text
            ),
            Self::AlreadyReplayed(at) => write!(
                f,
                "already replayed{} (--force to send again)",
                at.map(|t| format!(" at {}", t.to_rfc3339())).unwrap_or_default()
            ),
            Self::Resolved => write!(f, "marked resolved (--force to send anyway)"),
        }
    }
}

/// The function to invoke for an item: its ARN without a `$LATEST` or version qualifier (a
/// replay should run the code deployed now, with its fix), keeping an alias; or its name.
pub fn target(item: &ArchivedFailure) -> Option<String> {
    if let Some(arn) = &item.function_arn {
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() == 8
            && (parts[7] == "$LATEST" || parts[7].chars().all(|c| c.is_ascii_digit()))
        {
            return Some(parts[..7].join(":"));
        }
        return Some(arn.clone());
    }
    item.function.clone()
}

/// An EventBridge scheduled event's `time`, when `event` is one.
fn scheduled_time(event: &str) -> Option<Option<String>> {
    let json: Value = serde_json::from_str(event).ok()?;
    let scheduled = json.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
        && json.get("source").and_then(Value::as_str) == Some("aws.events");
    scheduled.then(|| json.get("time").and_then(Value::as_str).map(str::to_owned))
}

/// Every reason not to send `item` with `event` (the event read back, or why it could not be).
pub fn refusals(item: &ArchivedFailure, event: &Result<String, String>) -> Vec<Refusal> {
    let mut reasons = Vec::new();
    if item.class == FailureClass::Unparseable {
        return vec![Refusal::NoEvent];
    }
    if target(item).is_none() {
        reasons.push(Refusal::UnknownFunction);
    }
    match event {
        Ok(event) => {
            if let Some(time) = scheduled_time(event) {
                reasons.push(Refusal::BoundToInstant { time });
            }
        }
        Err(e) => reasons.push(Refusal::EventUnreadable(e.clone())),
    }
    if item.class.advice().replay != ReplayAdvice::Safe {
        reasons.push(Refusal::FailsTheSameWay(item.class));
    }
    match item.status {
        Status::Replayed => reasons.push(Refusal::AlreadyReplayed(item.replayed_at)),
        Status::Resolved => reasons.push(Refusal::Resolved),
        Status::New => {}
    }
    reasons
}

/// One item of a replay plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub item: ArchivedFailure,
    /// The function to invoke, when known.
    pub target: Option<String>,
    /// The event to send, when it could be read.
    pub event: Option<String>,
    pub refusals: Vec<Refusal>,
    /// Sent (perhaps by `--force` over overridable refusals).
    pub send: bool,
}

/// What to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    One(String),
    /// Items still `new` matching the filter.
    Matching(Filter),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("no archived failure {0}")]
    NotFound(String),
    #[error("a bulk replay needs --function or --class")]
    Unbounded,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl fleet_core::Classified for ReplayError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotFound(_) => ErrorClass::NotFound,
            Self::Unbounded => ErrorClass::InvalidEvent,
            Self::Service(e) => e.class,
        }
    }
}

/// Reads the event of an item back (inline, or from the spill bucket).
pub async fn event_of<S: EventSpill>(spill: &S, item: &ArchivedFailure) -> Result<String, String> {
    match &item.event {
        StoredEvent::Inline(event) => Ok(event.clone()),
        StoredEvent::Spilled { location, .. } => {
            spill.get(location).await.map_err(|e| e.to_string())
        }
    }
}

/// The items selected, each with its verdict.
pub async fn plan<A: Archive, S: EventSpill>(
    archive: &A,
    spill: &S,
    selection: &Selection,
    force: bool,
) -> Result<Vec<Planned>, ReplayError> {
    let items = match selection {
        Selection::One(id) => vec![archive
            .get(id)
            .await?
            .ok_or_else(|| ReplayError::NotFound(id.clone()))?],
        Selection::Matching(filter) => {
            if filter.function.is_none() && filter.class.is_none() {
                return Err(ReplayError::Unbounded);
            }
            let filter = Filter {
                status: Some(Status::New),
                ..filter.clone()
            };
            archive.list(&filter).await?
        }
    };
    let mut planned = Vec::with_capacity(items.len());
    for item in items {
        let event = event_of(spill, &item).await;
        let refusals = refusals(&item, &event);
        let send = refusals.iter().all(|r| force && r.overridable());
        planned.push(Planned {
            target: target(&item),
            event: event.ok(),
            item,
            refusals,
            send,
        });
    }
    Ok(planned)
}

/// Invocations per second (`--rate N/s`, 1–100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate(u32);

impl Rate {
    pub fn per_second(n: u32) -> Option<Self> {
        (1..=100).contains(&n).then_some(Self(n))
    }

    pub fn interval(self) -> Duration {
        Duration::from_secs(1) / self.0
    }
}

impl Default for Rate {
    fn default() -> Self {
        Self(5)
    }
}

impl FromStr for Rate {
    type Err = String;

    /// `N/s` or `N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.trim().trim_end_matches("/s");
        n.parse::<u32>()
            .ok()
            .and_then(Self::per_second)
            .ok_or_else(|| format!("{s:?} is not a rate: use N/s with N from 1 to 100"))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

/// `--since`: an RFC 3339 instant, or an age such as `90m`, `6h`, `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    At(DateTime<Utc>),
    Ago(chrono::Duration),
}

impl Since {
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::At(t) => t,
            Self::Ago(d) => now - d,
        }
    }
}

impl FromStr for Since {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(Self::At(t.with_timezone(&Utc)));
        }
        let bad = || format!("{s:?} is neither an RFC 3339 time nor an age such as 90m, 6h or 7d");
        let (number, unit) = s.split_at(s.len().saturating_sub(1));
        let n: i64 = number.parse().map_err(|_| bad())?;
        let d = match unit {
            "m" => chrono::Duration::try_minutes(n),
            "h" => chrono::Duration::try_hours(n),
            "d" => chrono::Duration::try_days(n),
            _ => None,
        };
        d.filter(|d| *d > chrono::Duration::zero())
            .map(Self::Ago)
            .ok_or_else(bad)
    }
}

/// What happened to one item sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub id: String,
    pub function: String,
    /// The new invocation's request id, or why the invoke failed.
    pub invoked: Result<Option<String>, ServiceError>,
    /// Marking the item `replayed` (only tried after a successful invoke).
    pub marked: Result<(), ServiceError>,
}

/// Sends every planned item marked `send`, one every `rate.interval()`, and marks each
/// `replayed` after Lambda accepted it. A failed invoke does not stop the others.
pub async fn execute<A, I, P>(
    archive: &A,
    invoker: &I,
    pause: &P,
    clock: &dyn Clock,
    planned: &[Planned],
    rate: Rate,
) -> Vec<Sent>
where
    A: Archive,
    I: Invoker,
    P: Pause,
{
    let mut sent = Vec::new();
    for p in planned.iter().filter(|p| p.send) {
        let (Some(function), Some(event)) = (&p.target, &p.event) else {
            continue;
        };
        if !sent.is_empty() {
            pause.pause(rate.interval()).await;
        }
        let invoked = invoker.invoke_async(function, event).await;
        let marked = match &invoked {
            Ok(request_id) => {
                archive
                    .mark_replayed(&p.item.id, clock.now(), request_id.clone())
                    .await
            }
            Err(e) => Err(e.clone()),
        };
        match (&invoked, &marked) {
            (Ok(request_id), Ok(())) => {
                tracing::info!(id = %p.item.id, %function, replay_request_id = request_id.as_deref().unwrap_or_default(), "replayed")
            }
            (Ok(_), Err(e)) => {
                tracing::error!(id = %p.item.id, %function, error = %e, "replayed, but marking the item failed")
            }
            (Err(e), _) => {
                tracing::error!(id = %p.item.id, %function, error = %e, "replay invoke failed")
            }
        }
        sent.push(Sent {
            id: p.item.id.clone(),
            function: function.clone(),
            invoked,
            marked,
        });
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_replay_error_has_one_class() {
        use fleet_core::Classified;
        let throttled = ServiceError::new("Lambda", ErrorClass::Throttled, "Rate Exceeded.");
        for (error, class) in [
            (ReplayError::NotFound("x".into()), ErrorClass::NotFound),
            (ReplayError::Unbounded, ErrorClass::InvalidEvent),
            (ReplayError::Service(throttled), ErrorClass::Throttled),
        ] {
            assert_eq!(error.class(), class, "{error}");
        }
    }

    #[test]
    fn targets_drop_latest_and_versions_but_keep_aliases() {
        let item = |arn: Option<&str>, name: Option<&str>| {
            let write = crate::model::ArchiveWrite {
                failure: crate::model::Failure {
                    id: "r".into(),
                    delivery_id: "m".into(),
                    function: name.map(str::to_owned),
                    function_arn: arn.map(str::to_owned),
                    class: FailureClass::Timeout,
                    error_type: None,
                    error_message: String::new(),
                    error_code: None,
                    request_id: None,
                    condition: None,
                    attempts: None,
                    shape: crate::model::Shape::Destination,
                    via: crate::model::Via::Sqs,
                    source_arn: None,
                    failed_at: None,
                    event: "{}".into(),
                },
                event: StoredEvent::Inline("{}".into()),
                seen_at: DateTime::<Utc>::UNIX_EPOCH,
                window: DateTime::<Utc>::UNIX_EPOCH,
                expires_at: DateTime::<Utc>::UNIX_EPOCH,
            };
            target(&ArchivedFailure::first(&write))
        };
        let f = "arn:aws:lambda:eu-west-1:123456789012:function:f";
        assert_eq!(
            item(Some(&format!("{f}:$LATEST")), Some("f")),
            Some(f.to_owned())
        );
        assert_eq!(
            item(Some(&format!("{f}:17")), Some("f")),
            Some(f.to_owned())
        );
        assert_eq!(
            item(Some(&format!("{f}:live")), Some("f")),
            Some(format!("{f}:live"))
        );
        assert_eq!(item(None, Some("legacy")), Some("legacy".to_owned()));
        assert_eq!(item(None, None), None);
    }

    #[test]
    fn rates_and_ages_parse() {
        assert_eq!("5/s".parse::<Rate>(), Ok(Rate(5)));
        assert_eq!("20".parse::<Rate>(), Ok(Rate(20)));
        assert!("0/s".parse::<Rate>().is_err());
        assert!("101/s".parse::<Rate>().is_err());
        assert!("fast".parse::<Rate>().is_err());
        assert_eq!(Rate(4).interval(), Duration::from_millis(250));
        let now: DateTime<Utc> = "2026-11-23T12:00:00Z".parse().unwrap();
        assert_eq!(
            "6h".parse::<Since>().unwrap().resolve(now).to_rfc3339(),
            "2026-11-23T06:00:00+00:00"
        );
        assert_eq!(
            "2026-11-23T09:00:00Z"
                .parse::<Since>()
                .unwrap()
                .resolve(now)
                .to_rfc3339(),
            "2026-11-23T09:00:00+00:00"
        );
        assert!("yesterday".parse::<Since>().is_err());
        assert!("0h".parse::<Since>().is_err());
        assert!("5w".parse::<Since>().is_err());
    }
}
