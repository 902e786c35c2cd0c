//! The ports the engine runs on, besides the fleet's shared EC2 port. Domain types only.

use chrono::{DateTime, Utc};
use std::future::Future;

use crate::rules::RuleRow;
use fleet_core::ErrorType;

pub use fleet_ec2::{Ec2Error, Ec2Port};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rules table: {0}")]
pub struct RulesError(pub String);

impl ErrorType for RulesError {
    fn error_type(&self) -> &'static str {
        "RulesUnavailable"
    }
}

/// Where the policy's rows are kept.
pub trait RuleSource: Send + Sync {
    fn load(&self) -> impl Future<Output = Result<Vec<RuleRow>, RulesError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CloudTrail {code}: {message}")]
pub struct LookupError {
    pub code: String,
    pub message: String,
    /// Throttling or 5xx: another run may succeed.
    pub transient: bool,
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
