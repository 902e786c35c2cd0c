//! The ports the scheduler runs on. They speak domain types; adapters own the SDK details.

use chrono::{DateTime, Utc};
use std::future::Future;

use crate::decide::{Action, InstanceState};
use fleet_core::ErrorType;

/// An instance that carries the schedule tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledInstance {
    pub id: String,
    pub name: Option<String>,
    pub schedule: String,
    pub state: InstanceState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstancePage {
    pub instances: Vec<ScheduledInstance>,
    pub next_token: Option<String>,
}

/// A state change EC2 can make to many instances in one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateChange {
    Start,
    Stop,
    Terminate,
}

impl StateChange {
    pub fn from_action(action: Action) -> Option<Self> {
        match action {
            Action::Start => Some(Self::Start),
            Action::Stop => Some(Self::Stop),
            Action::Terminate => Some(Self::Terminate),
            Action::None => None,
        }
    }

    pub fn action(self) -> Action {
        match self {
            Self::Start => Action::Start,
            Self::Stop => Action::Stop,
            Self::Terminate => Action::Terminate,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ec2ErrorKind {
    /// `IncorrectInstanceState`: one instance in the call is in the wrong state.
    IncorrectState,
    /// `OperationNotPermitted`: termination or stop protection.
    Protected,
    /// `InvalidInstanceID.*`: the instance is gone.
    NotFound,
    /// `UnauthorizedOperation`: IAM said no (e.g. the resource-tag condition).
    Denied,
    /// `RequestLimitExceeded` after the SDK's own backoff gave up.
    Throttled,
    /// 5xx, timeouts, connection failures.
    Unavailable,
    /// Any other client error.
    Other,
}

impl Ec2ErrorKind {
    /// Transient failures are worth another run; the others will fail the same way again.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("EC2 {code}: {message}")]
pub struct Ec2Error {
    pub kind: Ec2ErrorKind,
    pub code: String,
    pub message: String,
}

impl Ec2Error {
    pub fn new(kind: Ec2ErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
        }
    }
}

impl ErrorType for Ec2Error {
    fn error_type(&self) -> &'static str {
        match self.kind {
            Ec2ErrorKind::Throttled => "Throttled",
            Ec2ErrorKind::Unavailable => "Ec2Unavailable",
            Ec2ErrorKind::Denied => "AccessDenied",
            _ => "Ec2Failed",
        }
    }
}

pub trait Ec2Port: Send + Sync {
    /// One page of instances carrying the schedule tag, terminated ones excluded.
    fn describe_page(
        &self,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<InstancePage, Ec2Error>> + Send;

    /// One call for all `ids`; fails as a whole, like EC2.
    fn change_state(
        &self,
        change: StateChange,
        ids: &[String],
    ) -> impl Future<Output = Result<(), Ec2Error>> + Send;

    /// Sets the same tags on every instance in `ids`, in one call.
    fn create_tags(
        &self,
        ids: &[String],
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<(), Ec2Error>> + Send;
}

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
