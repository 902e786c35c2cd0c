//! The handler's ports: traits over domain types; the AWS adapters are in `aws.rs`, the
//! in-memory ones in `memory.rs`.

use chrono::{DateTime, Utc};
use fleet_core::ServiceError;
use std::future::Future;
use std::time::Duration;

use crate::model::{ArchiveWrite, ArchivedFailure, Filter, Recorded, SpillLocation};

/// The failure archive (one DynamoDB table).
pub trait Archive: Send + Sync {
    /// Writes a batch (a failure may appear more than once). Each write gets its own result, in
    /// order: the same failure delivered again is one item with its count raised; a redelivery of
    /// the same message changes nothing ([`Recorded::AlreadyCounted`]); a write that fails fails
    /// alone.
    fn record(
        &self,
        batch: &[ArchiveWrite],
    ) -> impl Future<Output = Vec<Result<Recorded, ServiceError>>> + Send;

    fn get(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<ArchivedFailure>, ServiceError>> + Send;

    /// Every item matching `filter`, oldest last seen first.
    fn list(
        &self,
        filter: &Filter,
    ) -> impl Future<Output = Result<Vec<ArchivedFailure>, ServiceError>> + Send;

    /// Every failure first seen in the digest window starting at `window`.
    fn in_window(
        &self,
        window: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<ArchivedFailure>, ServiceError>> + Send;

    /// Status `replayed`, the replay counted with the request id Lambda gave it. `NotFound`
    /// when the item is gone.
    fn mark_replayed(
        &self,
        id: &str,
        at: DateTime<Utc>,
        replay_request_id: Option<String>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Status `resolved`. `NotFound` when the item is gone.
    fn resolve(
        &self,
        id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// Which digest windows have been sent: a window is claimed by one digest run, then completed;
/// a claim older than `stale_after` may be taken over (its run died).
pub trait DigestLedger: Send + Sync {
    /// The windows among `windows` that are not sent yet.
    fn unsent(
        &self,
        windows: &[DateTime<Utc>],
    ) -> impl Future<Output = Result<Vec<DateTime<Utc>>, ServiceError>> + Send;

    /// `true` when this run now owns the window.
    fn claim(
        &self,
        window: DateTime<Utc>,
        at: DateTime<Utc>,
        stale_after: chrono::Duration,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    fn complete(
        &self,
        window: DateTime<Utc>,
        at: DateTime<Utc>,
        messages: usize,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Gives the claim up (the digest could not be sent; the next run tries again).
    fn release(
        &self,
        window: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// Where events too large for an archive item go (an S3 bucket).
pub trait EventSpill: Send + Sync {
    fn put(
        &self,
        key: &str,
        event: &str,
    ) -> impl Future<Output = Result<SpillLocation, ServiceError>> + Send;

    fn get(
        &self,
        location: &SpillLocation,
    ) -> impl Future<Output = Result<String, ServiceError>> + Send;
}

/// Re-invokes a function asynchronously (Lambda `Invoke`, `InvocationType=Event`).
pub trait Invoker: Send + Sync {
    /// The request id Lambda gave the new invocation, when it said.
    fn invoke_async(
        &self,
        function: &str,
        payload: &str,
    ) -> impl Future<Output = Result<Option<String>, ServiceError>> + Send;
}

/// Where embedded-metric-format lines go (stdout in Lambda, where CloudWatch picks them up).
pub trait MetricSink: Send + Sync {
    fn emit(&self, line: String);
}

/// Waits between replays (`--rate`).
pub trait Pause: Send + Sync {
    fn pause(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// Lambda's stdout: CloudWatch Logs turns EMF lines into metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdoutMetrics;

impl MetricSink for StdoutMetrics {
    fn emit(&self, line: String) {
        println!("{line}");
    }
}

/// tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioPause;

impl Pause for TokioPause {
    async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

impl<T: MetricSink + ?Sized> MetricSink for std::sync::Arc<T> {
    fn emit(&self, line: String) {
        (**self).emit(line)
    }
}
