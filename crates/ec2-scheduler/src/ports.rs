//! The ports the scheduler runs on: the fleet's shared EC2 port and the state table.

use chrono::{DateTime, Utc};
use std::future::Future;

use fleet_core::ServiceError;

pub use fleet_ec2::{Ec2Error, Ec2ErrorKind, Ec2Port, InstancePage, InstanceQuery, StateChange};

/// Remembers when the last successful run happened. Errors are the table's, classified
/// (`CorruptState` for a stored value that cannot be read).
pub trait StateStore: Send + Sync {
    fn last_successful_run(
        &self,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, ServiceError>> + Send;

    /// Records `at`, never moving the mark backwards.
    fn record_successful_run(
        &self,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}
