//! The ports the engine runs on, besides the fleet's shared EC2 port. Domain types only.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::future::Future;

use crate::rules::RuleRow;
use fleet_core::{Classified, ErrorClass, ServiceError};

pub use fleet_core::ledger::{EventKey, EventLedger, EventRecord, EventShare};
pub use fleet_ec2::{Ec2Error, Ec2Port};

/// What the policy remembers between runs: when it first saw an instance whose launch time EC2
/// does not give (its grace period counts from there), and its event ledger and lease.
pub trait PolicyState: Send + Sync {
    type Ledger: EventLedger;

    fn ledger(&self) -> &Self::Ledger;

    /// The first sightings recorded for these instances (absent ones have none).
    fn first_seen(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, DateTime<Utc>>, ServiceError>> + Send;

    /// Writes these sightings (the caller passes only instances not seen before).
    fn record_first_seen(
        &self,
        sightings: &[(String, DateTime<Utc>)],
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// Where the policy's rows are kept. Errors are the table's, classified.
pub trait RuleSource: Send + Sync {
    fn load(&self) -> impl Future<Output = Result<Vec<RuleRow>, ServiceError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CloudTrail {code}: {message}")]
pub struct LookupError {
    pub code: String,
    pub message: String,
    /// Throttling or 5xx: another run may succeed.
    pub transient: bool,
}

impl Classified for LookupError {
    /// By CloudTrail's error code; otherwise a transient failure is `Unavailable` and any other
    /// `Internal`.
    fn class(&self) -> ErrorClass {
        ErrorClass::from_aws_code(&self.code).unwrap_or(if self.transient {
            ErrorClass::Unavailable
        } else {
            ErrorClass::Internal
        })
    }
}

/// Who launched an instance, from the account's CloudTrail event history (90 days).
pub trait CreatorLookup: Send + Sync {
    /// The normalised identity that called RunInstances for `instance_id`; `None` when the
    /// history holds no such event. `launched_at`, when known, narrows the search.
    fn launched_by(
        &self,
        instance_id: &str,
        launched_at: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<Option<String>, LookupError>> + Send;
}
