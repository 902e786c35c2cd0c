//! In-memory adapters that behave like AWS where the handler relies on it: the archive's
//! conditional write (one item per failure, a redelivered message not counted twice, a failed
//! write failing alone, at most 100 writes per batched call), the digest ledger's claims, and
//! recording fakes for the spill bucket, Lambda, the metric sink and the pause.

use chrono::{DateTime, Utc};
use fleet_core::{ErrorClass, ServiceError};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::model::{ArchiveWrite, ArchivedFailure, Filter, Recorded, SpillLocation, Status};
use crate::ports::{Archive, DigestLedger, EventSpill, Invoker, MetricSink, Pause};

/// DynamoDB's TransactWriteItems limit.
pub const MAX_BATCH: usize = 100;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Calls the archive received, as the DynamoDB adapter would make them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveCalls {
    /// One per batch (a transaction in DynamoDB).
    pub batch_writes: usize,
    /// Single-item writes (duplicates within a batch).
    pub item_writes: usize,
    pub reads: usize,
}

#[derive(Debug, Clone)]
struct Stored {
    item: ArchivedFailure,
    deliveries: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
struct Ledger {
    claimed_at: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
    messages: usize,
}

#[derive(Debug, Default)]
struct State {
    items: BTreeMap<String, Stored>,
    digests: BTreeMap<DateTime<Utc>, Ledger>,
    /// Writes of these ids fail with this error (a throttled item, say).
    failing: HashMap<String, ServiceError>,
    /// Every call fails with this error.
    down: Option<ServiceError>,
    calls: ArchiveCalls,
}

/// The archive table in memory.
#[derive(Debug, Default)]
pub struct MemoryArchive {
    state: Mutex<State>,
}

impl MemoryArchive {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes of `id` fail with `error` until [`MemoryArchive::heal`].
    pub fn fail_writes_of(&self, id: &str, error: ServiceError) {
        lock(&self.state).failing.insert(id.to_owned(), error);
    }

    /// Every call fails with `error`.
    pub fn go_down(&self, error: ServiceError) {
        lock(&self.state).down = Some(error);
    }

    pub fn heal(&self) {
        let mut state = lock(&self.state);
        state.failing.clear();
        state.down = None;
    }

    pub fn calls(&self) -> ArchiveCalls {
        lock(&self.state).calls
    }

    pub fn items(&self) -> Vec<ArchivedFailure> {
        lock(&self.state)
            .items
            .values()
            .map(|s| s.item.clone())
            .collect()
    }

    /// (window, sent, messages) of every digest window seen.
    pub fn digest_windows(&self) -> Vec<(DateTime<Utc>, bool, usize)> {
        lock(&self.state)
            .digests
            .iter()
            .map(|(w, l)| (*w, l.sent_at.is_some(), l.messages))
            .collect()
    }

    fn write_one(state: &mut State, write: &ArchiveWrite) -> Result<Recorded, ServiceError> {
        let id = &write.failure.id;
        if let Some(error) = state.failing.get(id) {
            return Err(error.clone());
        }
        match state.items.get_mut(id) {
            Some(stored) if stored.deliveries.contains(&write.failure.delivery_id) => {
                Ok(Recorded::AlreadyCounted)
            }
            Some(stored) => {
                stored.deliveries.insert(write.failure.delivery_id.clone());
                stored.item.count += 1;
                stored.item.last_seen = write.seen_at;
                stored.item.expires_at = write.expires_at;
                Ok(Recorded::Archived)
            }
            None => {
                state.items.insert(
                    id.clone(),
                    Stored {
                        item: ArchivedFailure::first(write),
                        deliveries: BTreeSet::from([write.failure.delivery_id.clone()]),
                    },
                );
                Ok(Recorded::Archived)
            }
        }
    }

    fn check(state: &State) -> Result<(), ServiceError> {
        match &state.down {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::new(
        "DynamoDB",
        ErrorClass::NotFound,
        format!("no archived failure {id}"),
    )
}

impl Archive for MemoryArchive {
    async fn record(&self, batch: &[ArchiveWrite]) -> Vec<Result<Recorded, ServiceError>> {
        let mut state = lock(&self.state);
        if let Err(e) = Self::check(&state) {
            return batch.iter().map(|_| Err(e.clone())).collect();
        }
        if batch.len() > MAX_BATCH {
            let e = ServiceError::new(
                "DynamoDB",
                ErrorClass::Internal,
                format!(
                    "ValidationException: {} writes in one batch; at most {MAX_BATCH}",
                    batch.len()
                ),
            );
            return batch.iter().map(|_| Err(e.clone())).collect();
        }
        // Like the DynamoDB adapter: the first write of each id goes in one batched call, a
        // second write of the same id in the same batch needs a call of its own.
        let mut seen = BTreeSet::new();
        let duplicates = batch
            .iter()
            .filter(|w| !seen.insert(w.failure.id.clone()))
            .count();
        if !batch.is_empty() {
            state.calls.batch_writes += 1;
        }
        state.calls.item_writes += duplicates;
        batch
            .iter()
            .map(|w| Self::write_one(&mut state, w))
            .collect()
    }

    async fn get(&self, id: &str) -> Result<Option<ArchivedFailure>, ServiceError> {
        let mut state = lock(&self.state);
        Self::check(&state)?;
        state.calls.reads += 1;
        Ok(state.items.get(id).map(|s| s.item.clone()))
    }

    async fn list(&self, filter: &Filter) -> Result<Vec<ArchivedFailure>, ServiceError> {
        let mut state = lock(&self.state);
        Self::check(&state)?;
        state.calls.reads += 1;
        let mut items: Vec<ArchivedFailure> = state
            .items
            .values()
            .map(|s| s.item.clone())
            .filter(|i| filter.matches(i))
            .collect();
        items.sort_by(|a, b| (a.last_seen, &a.id).cmp(&(b.last_seen, &b.id)));
        Ok(items)
    }

    async fn in_window(&self, window: DateTime<Utc>) -> Result<Vec<ArchivedFailure>, ServiceError> {
        let mut state = lock(&self.state);
        Self::check(&state)?;
        state.calls.reads += 1;
        Ok(state
            .items
            .values()
            .filter(|s| s.item.window == window)
            .map(|s| s.item.clone())
            .collect())
    }

    async fn mark_replayed(
        &self,
        id: &str,
        at: DateTime<Utc>,
        replay_request_id: Option<String>,
    ) -> Result<(), ServiceError> {
        let mut state = lock(&self.state);
        Self::check(&state)?;
        let stored = state.items.get_mut(id).ok_or_else(|| not_found(id))?;
        stored.item.status = Status::Replayed;
        stored.item.replays += 1;
        stored.item.replayed_at = Some(at);
        stored.item.replay_request_ids.extend(replay_request_id);
        Ok(())
    }

    async fn resolve(&self, id: &str, at: DateTime<Utc>) -> Result<(), ServiceError> {
        let mut state = lock(&self.state);
        Self::check(&state)?;
        let stored = state.items.get_mut(id).ok_or_else(|| not_found(id))?;
        stored.item.status = Status::Resolved;
        stored.item.resolved_at = Some(at);
        Ok(())
    }
}

impl DigestLedger for MemoryArchive {
    async fn unsent(&self, windows: &[DateTime<Utc>]) -> Result<Vec<DateTime<Utc>>, ServiceError> {
        let state = lock(&self.state);
        Self::check(&state)?;
        Ok(windows
            .iter()
            .filter(|w| state.digests.get(w).is_none_or(|l| l.sent_at.is_none()))
            .copied()
            .collect())
    }

    async fn claim(
        &self,
        window: DateTime<Utc>,
        at: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> Result<bool, ServiceError> {
        let mut state = lock(&self.state);
        Self::check(&state)?;
        let ledger = state.digests.entry(window).or_default();
        let free =
            ledger.sent_at.is_none() && ledger.claimed_at.is_none_or(|c| c < at - stale_after);
        if free {
            ledger.claimed_at = Some(at);
        }
        Ok(free)
    }

    async fn complete(
        &self,
        window: DateTime<Utc>,
        at: DateTime<Utc>,
        messages: usize,
    ) -> Result<(), ServiceError> {
        let mut state = lock(&self.state);
        Self::check(&state)?;
        let ledger = state.digests.entry(window).or_default();
        ledger.sent_at = Some(at);
        ledger.messages = messages;
        Ok(())
    }

    async fn release(&self, window: DateTime<Utc>) -> Result<(), ServiceError> {
        let mut state = lock(&self.state);
        Self::check(&state)?;
        if let Some(ledger) = state.digests.get_mut(&window) {
            ledger.claimed_at = None;
        }
        Ok(())
    }
}

/// The spill bucket in memory.
#[derive(Debug)]
pub struct MemorySpill {
    bucket: String,
    objects: Mutex<BTreeMap<String, String>>,
    failure: Mutex<Option<ServiceError>>,
}

impl MemorySpill {
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            objects: Mutex::new(BTreeMap::new()),
            failure: Mutex::new(None),
        }
    }

    /// Every put and get fails with `error` (`None` heals).
    pub fn fail_with(&self, error: Option<ServiceError>) {
        *lock(&self.failure) = error;
    }

    pub fn objects(&self) -> BTreeMap<String, String> {
        lock(&self.objects).clone()
    }
}

impl EventSpill for MemorySpill {
    async fn put(&self, key: &str, event: &str) -> Result<SpillLocation, ServiceError> {
        if let Some(e) = lock(&self.failure).clone() {
            return Err(e);
        }
        lock(&self.objects).insert(key.to_owned(), event.to_owned());
        Ok(SpillLocation {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
        })
    }

    async fn get(&self, location: &SpillLocation) -> Result<String, ServiceError> {
        if let Some(e) = lock(&self.failure).clone() {
            return Err(e);
        }
        lock(&self.objects)
            .get(&location.key)
            .filter(|_| location.bucket == self.bucket)
            .cloned()
            .ok_or_else(|| {
                ServiceError::new("S3", ErrorClass::NotFound, format!("NoSuchKey: {location}"))
            })
    }
}

/// Records asynchronous invokes; a function can be made to fail.
#[derive(Debug, Default)]
pub struct RecordingInvoker {
    sent: Mutex<Vec<(String, String)>>,
    failing: Mutex<HashMap<String, ServiceError>>,
}

impl RecordingInvoker {
    /// (function, payload) of every invoke that succeeded, in order.
    pub fn sent(&self) -> Vec<(String, String)> {
        lock(&self.sent).clone()
    }

    pub fn fail(&self, function: &str, error: ServiceError) {
        lock(&self.failing).insert(function.to_owned(), error);
    }
}

impl Invoker for RecordingInvoker {
    async fn invoke_async(
        &self,
        function: &str,
        payload: &str,
    ) -> Result<Option<String>, ServiceError> {
        if let Some(e) = lock(&self.failing).get(function) {
            return Err(e.clone());
        }
        let mut sent = lock(&self.sent);
        sent.push((function.to_owned(), payload.to_owned()));
        Ok(Some(format!("replay-{}", sent.len())))
    }
}

/// Keeps the EMF lines.
#[derive(Debug, Default)]
pub struct RecordingMetrics(Mutex<Vec<String>>);

impl RecordingMetrics {
    pub fn lines(&self) -> Vec<String> {
        lock(&self.0).clone()
    }
}

impl MetricSink for RecordingMetrics {
    fn emit(&self, line: String) {
        lock(&self.0).push(line);
    }
}

/// Keeps the pauses instead of waiting.
#[derive(Debug, Default)]
pub struct RecordingPause(Mutex<Vec<Duration>>);

impl RecordingPause {
    pub fn pauses(&self) -> Vec<Duration> {
        lock(&self.0).clone()
    }
}

impl Pause for RecordingPause {
    async fn pause(&self, duration: Duration) {
        lock(&self.0).push(duration);
    }
}
