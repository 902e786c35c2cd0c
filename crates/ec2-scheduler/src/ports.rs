//! The ports the scheduler runs on: the fleet's shared EC2 port and the state table.

use chrono::{DateTime, Utc};
use std::future::Future;

use fleet_core::ErrorType;

pub use fleet_ec2::{Ec2Error, Ec2ErrorKind, Ec2Port, InstancePage, InstanceQuery, StateChange};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state table: {0}")]
pub struct StateError(pub String);

impl ErrorType for StateError {
    fn error_type(&self) -> &'static str {
        "StateStoreFailed"
    }
}

/// Remembers when the last successful run happened.
pub trait StateStore: Send + Sync {
    fn last_successful_run(
        &self,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, StateError>> + Send;

    /// Records `at`, never moving the mark backwards.
    fn record_successful_run(
        &self,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}
