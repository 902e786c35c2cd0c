//! The ports the scheduler runs on: the fleet's shared EC2 port and the state table.

use chrono::{DateTime, Utc};
use std::future::Future;

use crate::decide::{Action, Window};
use fleet_core::ServiceError;

pub use fleet_core::ledger::{EventKey, EventLedger, EventRecord, EventShare, StoredReport};

pub use fleet_ec2::{Ec2Error, Ec2ErrorKind, Ec2Port, InstancePage, InstanceQuery, StateChange};

/// What the scheduler remembers about one instance between runs. Kept only while needed: a
/// one-off not yet carried out or dropped, or an action still pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceNote {
    pub instance_id: String,
    /// The `Schedule` value the note is about. A note about another value is stale: the owner
    /// changed the tag, and whatever it held is dropped.
    pub schedule: String,
    /// For a one-off: the window of the run that first saw the value, which fixes its instant.
    pub first_seen: Option<Window>,
    pub pending: Option<PendingAction>,
}

/// An action that was due but not carried out (held by the cap, failed transiently, instance in
/// transition, deadline): retried by the next runs until done, superseded or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PendingAction {
    pub action: Action,
    /// When the schedule asked for it.
    pub due_at: DateTime<Utc>,
    /// The run that first left it pending: the TTL counts from here.
    pub since: DateTime<Utc>,
}

/// The state table. Errors are the table's, classified (`CorruptState` for a stored value that
/// cannot be read).
pub trait StateStore: Send + Sync {
    type Ledger: EventLedger;

    fn last_successful_run(
        &self,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, ServiceError>> + Send;

    /// Records `at`, never moving the mark backwards.
    fn record_successful_run(
        &self,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// The notes about these instances (absent ones have none).
    fn notes(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<Vec<InstanceNote>, ServiceError>> + Send;

    /// Writes these notes, replacing what was there.
    fn save_notes(
        &self,
        notes: &[InstanceNote],
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Forgets the notes about these instances.
    fn forget_notes(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;

    /// Where the retries of one scheduled event and the lease are kept.
    fn ledger(&self) -> &Self::Ledger;
}
