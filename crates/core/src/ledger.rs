//! What a scheduled function remembers of one event across Lambda's retries of it, and the lease
//! that keeps two runs of it from overlapping. EventBridge retries a failed asynchronous
//! invocation with the same event `id`: a per-run cap on destructive actions is reserved per
//! event (so retries share it), and the event's report is kept until SNS acknowledged it (so a
//! retry publishes one whose publish failed, and never a second copy).

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

use crate::error::{ErrorClass, HandlerError, ServiceError};
use crate::notify::{truncate_utf8, Notifier, RunSummary, MAX_MESSAGE_BYTES};

/// A scheduled event: its `id`, and its `time` (its record expires a day after).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKey<'a> {
    pub id: &'a str,
    pub at: DateTime<Utc>,
}

/// The scheduled event a run serves, and the capped actions earlier attempts of it reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventShare<'a> {
    pub key: EventKey<'a>,
    pub actions_used: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventRecord {
    /// Capped actions (terminations, enforcements) reserved by attempts of this event.
    pub actions: usize,
    pub report: Option<StoredReport>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub subject: String,
    pub text: String,
    pub published: bool,
}

pub trait EventLedger: Send + Sync {
    fn event(
        &self,
        event_id: &str,
    ) -> impl Future<Output = Result<EventRecord, ServiceError>> + Send;

    /// Reserves `count` more actions for the event if it has used exactly `used` so far
    /// (another attempt may have reserved meanwhile). `false`: nothing was reserved.
    fn reserve(
        &self,
        event: EventKey<'_>,
        used: usize,
        count: usize,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    /// Keeps the event's report, unpublished, before it is published.
    fn store_report(
        &self,
        event: EventKey<'_>,
        subject: &str,
        text: &str,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    fn mark_report_published(
        &self,
        event_id: &str,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Takes the function's lease for `owner` until `until`, when it is free, expired at `now`,
    /// or already `owner`'s (a retry of the same event: the earlier attempt has ended).
    fn acquire_lease(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    /// Gives the lease back if `owner` still holds it.
    fn release_lease(&self, owner: &str) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// The ledger in memory.
#[derive(Debug, Default)]
pub struct MemoryLedger(Mutex<LedgerState>);

#[derive(Debug, Default)]
struct LedgerState {
    events: BTreeMap<String, EventRecord>,
    lease: Option<(String, DateTime<Utc>)>,
}

impl MemoryLedger {
    fn lock(&self) -> MutexGuard<'_, LedgerState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record(&self, event_id: &str) -> Option<EventRecord> {
        self.lock().events.get(event_id).cloned()
    }

    /// Who holds the lease, until when.
    pub fn lease(&self) -> Option<(String, DateTime<Utc>)> {
        self.lock().lease.clone()
    }
}

impl EventLedger for MemoryLedger {
    async fn event(&self, event_id: &str) -> Result<EventRecord, ServiceError> {
        Ok(self.record(event_id).unwrap_or_default())
    }

    async fn reserve(
        &self,
        event: EventKey<'_>,
        used: usize,
        count: usize,
    ) -> Result<bool, ServiceError> {
        let mut state = self.lock();
        let record = state.events.entry(event.id.to_owned()).or_default();
        if record.actions != used {
            return Ok(false);
        }
        record.actions += count;
        Ok(true)
    }

    async fn store_report(
        &self,
        event: EventKey<'_>,
        subject: &str,
        text: &str,
    ) -> Result<(), ServiceError> {
        self.lock()
            .events
            .entry(event.id.to_owned())
            .or_default()
            .report = Some(StoredReport {
            subject: subject.to_owned(),
            text: text.to_owned(),
            published: false,
        });
        Ok(())
    }

    async fn mark_report_published(&self, event_id: &str) -> Result<(), ServiceError> {
        if let Some(report) = self
            .lock()
            .events
            .get_mut(event_id)
            .and_then(|e| e.report.as_mut())
        {
            report.published = true;
        }
        Ok(())
    }

    async fn acquire_lease(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        let mut state = self.lock();
        let free = match &state.lease {
            None => true,
            Some((holder, expires)) => holder == owner || *expires < now,
        };
        if free {
            state.lease = Some((owner.to_owned(), until));
        }
        Ok(free)
    }

    async fn release_lease(&self, owner: &str) -> Result<(), ServiceError> {
        let mut state = self.lock();
        if state
            .lease
            .as_ref()
            .is_some_and(|(holder, _)| holder == owner)
        {
            state.lease = None;
        }
        Ok(())
    }
}

/// A report that can tell a retry's news from a repetition of what is still held or pending.
pub trait EventReport: RunSummary {
    /// Something was changed, failed or dropped (not only held, pending or planned).
    fn has_changes(&self) -> bool;
}

/// Publishes the report of a run once per event. It is stored first, so that when SNS fails the
/// retry publishes it, and marked published after SNS acknowledged it, so that a retry never
/// sends a second copy. A retry with changes of its own sends those (appended to an unpublished
/// report). `event` is `None` for a run by hand: the report goes out when it has news.
pub async fn publish_once<R: EventReport, L: EventLedger, N: Notifier>(
    report: &R,
    event: Option<(EventKey<'_>, Option<StoredReport>)>,
    ledger: &L,
    notifier: Option<&N>,
) -> Result<(), HandlerError> {
    let Some(notifier) = notifier else {
        return Ok(());
    };
    let (key, earlier) = match event {
        Some((key, earlier)) => (Some(key), earlier),
        None => (None, None),
    };
    let (subject, text) = match earlier {
        Some(stored) if !stored.published => {
            let mut text = stored.text;
            if report.has_changes() {
                text.push_str("\n\n--- and the retry of the same scheduled event ---\n");
                text.push_str(&report.to_text());
            }
            (stored.subject, text)
        }
        Some(_) if report.has_changes() => (report.subject(), report.to_text()),
        None if report.has_news() => (report.subject(), report.to_text()),
        _ => return Ok(()),
    };
    let text = truncate_utf8(&text, MAX_MESSAGE_BYTES);
    if let Some(key) = key {
        ledger
            .store_report(key, &subject, &text)
            .await
            .map_err(|e| HandlerError::from_error(&e))?;
    }
    notifier
        .publish(&subject, &text)
        .await
        .map_err(|e| HandlerError::from_error(&e))?;
    if let Some(key) = key {
        // SNS has it: failing the invocation now would only make a retry send it again.
        if let Err(e) = ledger.mark_report_published(key.id).await {
            tracing::warn!(event_id = key.id, error = %e, "report published but not marked");
        }
    }
    Ok(())
}

/// One invocation of a scheduled function, as the ledger sees it.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// The event's `id` (none for a run by hand).
    pub event_id: Option<&'a str>,
    /// Lambda's request id: the lease owner when the event has no id.
    pub request_id: &'a str,
    /// The event's instant (its record's expiry counts from it).
    pub at: DateTime<Utc>,
    /// The function's clock.
    pub now: DateTime<Utc>,
    /// When Lambda would kill this attempt.
    pub deadline: Option<DateTime<Utc>>,
}

/// How long the lease is held by a run without a Lambda deadline (a local invoke).
const LEASE_WITHOUT_DEADLINE: chrono::Duration = chrono::Duration::minutes(15);

/// Runs `run` once for the invocation: under the function's lease (held until Lambda would kill
/// this attempt; a retry of the same event may take it again), with the event's share of the
/// capped actions, and publishes its report once per event. The lease is given back whatever
/// the outcome.
pub async fn run_once_per_event<'a, R, L, N, F, Fut>(
    invocation: Invocation<'a>,
    ledger: &L,
    notifier: Option<&N>,
    run: F,
) -> Result<R, HandlerError>
where
    R: EventReport,
    L: EventLedger,
    N: Notifier,
    F: FnOnce(Option<EventShare<'a>>) -> Fut,
    Fut: Future<Output = Result<R, HandlerError>>,
{
    let owner = invocation.event_id.unwrap_or(invocation.request_id);
    let until = invocation
        .deadline
        .unwrap_or(invocation.now + LEASE_WITHOUT_DEADLINE);
    take_lease(ledger, owner, invocation.now, until).await?;
    let result = async {
        let record = match invocation.event_id {
            Some(id) => Some(
                ledger
                    .event(id)
                    .await
                    .map_err(|e| HandlerError::from_error(&e))?,
            ),
            None => None,
        };
        let key = invocation.event_id.map(|id| EventKey {
            id,
            at: invocation.at,
        });
        let share = key.zip(record.as_ref()).map(|(key, r)| EventShare {
            key,
            actions_used: r.actions,
        });
        let report = run(share).await?;
        let earlier = record.and_then(|r| r.report);
        publish_once(&report, key.map(|k| (k, earlier)), ledger, notifier).await?;
        Ok(report)
    }
    .await;
    if let Err(e) = ledger.release_lease(owner).await {
        tracing::warn!(owner, error = %e, "lease not released; it expires on its own");
    }
    result
}

/// Ends an invocation whose report went out: it fails with `ActionsFailed` if something failed
/// transiently, so Lambda retries it (and the failure is not hidden behind a success).
pub fn fail_on_transient<R: RunSummary>(report: R) -> Result<R, HandlerError> {
    match report.transient_failures() {
        0 => Ok(report),
        n => Err(HandlerError::new(
            ErrorClass::ActionsFailed,
            format!("{n} change(s) failed transiently (throttling or a service unavailable); the invocation will be retried"),
        )),
    }
}

/// The lease for this invocation, or `Conflict` when another run holds it: Lambda retries the
/// event later, and the window it covers is still open.
pub async fn take_lease<L: EventLedger>(
    ledger: &L,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<(), HandlerError> {
    match ledger.acquire_lease(owner, now, until).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(HandlerError::new(
            ErrorClass::Conflict,
            "another run of this function holds its lease; nothing was done and the retry will run",
        )),
        Err(e) => Err(HandlerError::from_error(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::RecordingNotifier;

    struct Summary {
        news: bool,
        changes: bool,
        transient: usize,
    }

    impl RunSummary for Summary {
        fn has_news(&self) -> bool {
            self.news
        }
        fn subject(&self) -> String {
            "subject".into()
        }
        fn to_text(&self) -> String {
            format!("text {}", self.transient)
        }
        fn transient_failures(&self) -> usize {
            self.transient
        }
    }

    impl EventReport for Summary {
        fn has_changes(&self) -> bool {
            self.changes
        }
    }

    fn summary(news: bool, changes: bool) -> Summary {
        Summary {
            news,
            changes,
            transient: 0,
        }
    }

    #[tokio::test]
    async fn a_run_by_hand_sends_news_only() {
        let ledger = MemoryLedger::default();
        let notifier = RecordingNotifier::default();
        publish_once(&summary(false, false), None, &ledger, Some(&notifier))
            .await
            .unwrap();
        assert!(notifier.sent().is_empty(), "no news, no message");
        publish_once(&summary(true, false), None, &ledger, Some(&notifier))
            .await
            .unwrap();
        assert_eq!(
            notifier.sent(),
            [("subject".to_owned(), "text 0".to_owned())]
        );
        let no_topic: Option<&RecordingNotifier> = None;
        publish_once(&summary(true, true), None, &ledger, no_topic)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_event_report_is_published_once_and_a_failed_one_by_the_retry() {
        let ledger = MemoryLedger::default();
        let key = EventKey {
            id: "evt",
            at: "2026-11-23T08:00:00Z".parse().unwrap(),
        };
        let down = RecordingNotifier {
            failure: Some(ServiceError::new(
                "SNS",
                ErrorClass::Throttled,
                "Throttling",
            )),
            ..RecordingNotifier::default()
        };
        let err = publish_once(
            &summary(true, true),
            Some((key, None)),
            &ledger,
            Some(&down),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.error_type(),
            "Throttled",
            "a failed publish fails with its class"
        );
        let stored = ledger.record("evt").unwrap().report.unwrap();
        assert!(!stored.published);

        let up = RecordingNotifier::default();
        // The retry has nothing new: the stored report goes out as it was.
        publish_once(
            &summary(true, false),
            Some((key, Some(stored))),
            &ledger,
            Some(&up),
        )
        .await
        .unwrap();
        assert_eq!(up.sent(), [("subject".to_owned(), "text 0".to_owned())]);
        let stored = ledger.record("evt").unwrap().report.unwrap();
        assert!(stored.published);
        // A second retry: no second copy.
        publish_once(
            &summary(true, false),
            Some((key, Some(stored.clone()))),
            &ledger,
            Some(&up),
        )
        .await
        .unwrap();
        assert_eq!(up.sent().len(), 1);
        // A retry that changed something reports that.
        publish_once(
            &summary(true, true),
            Some((key, Some(stored))),
            &ledger,
            Some(&up),
        )
        .await
        .unwrap();
        assert_eq!(up.sent().len(), 2);
    }

    #[test]
    fn transient_failures_fail_the_invocation_after_the_report() {
        assert!(fail_on_transient(summary(true, true)).is_ok());
        let err = fail_on_transient(Summary {
            news: true,
            changes: true,
            transient: 2,
        })
        .err()
        .unwrap();
        assert_eq!(err.error_type(), "ActionsFailed");
        assert!(err.message.starts_with("2 change(s) failed transiently"));
    }
}
