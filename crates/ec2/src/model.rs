//! Domain types and the port. They speak EC2's language without the SDK's types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

use fleet_core::{Classified, ErrorClass};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
}

impl InstanceState {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "stopping" => Self::Stopping,
            "stopped" => Self::Stopped,
            "shutting-down" => Self::ShuttingDown,
            "terminated" => Self::Terminated,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
        }
    }
}

impl std::fmt::Display for InstanceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An instance as the fleet sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub state: InstanceState,
    pub tags: BTreeMap<String, String>,
    pub vpc_id: Option<String>,
    /// Moves on every start.
    pub launch_time: Option<DateTime<Utc>>,
    /// When the primary network interface was attached: the original launch, which `launch_time`
    /// forgets after a stop and start.
    pub created_at: Option<DateTime<Utc>>,
}

impl Instance {
    /// An untagged instance outside any VPC, with no times known.
    pub fn new(id: impl Into<String>, state: InstanceState) -> Self {
        Self {
            id: id.into(),
            state,
            tags: BTreeMap::new(),
            vpc_id: None,
            launch_time: None,
            created_at: None,
        }
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    pub fn name(&self) -> Option<&str> {
        self.tag("Name")
    }
}

/// Server-side filters for DescribeInstances. Terminated instances are never listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceQuery {
    /// Only instances carrying this tag key.
    pub tag_key: Option<String>,
    /// Only instances in these VPCs (empty: every VPC).
    pub vpc_ids: Vec<String>,
    /// Only these instances (empty: all). A filter, not `InstanceIds`, so an id that is not
    /// visible yet is simply absent instead of failing the call.
    pub instance_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstancePage {
    pub instances: Vec<Instance>,
    pub next_token: Option<String>,
}

/// A state change EC2 can make to many instances in one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateChange {
    Start,
    Stop,
    Terminate,
}

impl std::fmt::Display for StateChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Terminate => "terminate",
        })
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
    pub const ALL: [Ec2ErrorKind; 7] = [
        Self::IncorrectState,
        Self::Protected,
        Self::NotFound,
        Self::Denied,
        Self::Throttled,
        Self::Unavailable,
        Self::Other,
    ];

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

impl Classified for Ec2Error {
    fn class(&self) -> ErrorClass {
        match self.kind {
            Ec2ErrorKind::IncorrectState => ErrorClass::Conflict,
            Ec2ErrorKind::Protected => ErrorClass::Rejected,
            Ec2ErrorKind::NotFound => ErrorClass::NotFound,
            Ec2ErrorKind::Denied => ErrorClass::AccessDenied,
            Ec2ErrorKind::Throttled => ErrorClass::Throttled,
            Ec2ErrorKind::Unavailable => ErrorClass::Unavailable,
            Ec2ErrorKind::Other => ErrorClass::Internal,
        }
    }
}

/// Calls made to EC2, by operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts {
    pub describe: usize,
    pub change_state: usize,
    pub create_tags: usize,
    pub delete_tags: usize,
}

pub trait Ec2Port: Send + Sync {
    /// One page of the instances `query` selects, terminated ones excluded.
    fn describe_page(
        &self,
        query: &InstanceQuery,
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

    /// Removes the tags with these keys (whatever their values) from every instance in `ids`, in
    /// one call. A key an instance does not carry is not an error.
    fn delete_tags(
        &self,
        ids: &[String],
        keys: &[String],
    ) -> impl Future<Output = Result<(), Ec2Error>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_one_class() {
        let classes: Vec<(Ec2ErrorKind, ErrorClass)> = Ec2ErrorKind::ALL
            .into_iter()
            .map(|kind| (kind, Ec2Error::new(kind, "Code", "message").class()))
            .collect();
        use Ec2ErrorKind::*;
        assert_eq!(
            classes,
            [
                (IncorrectState, ErrorClass::Conflict),
                (Protected, ErrorClass::Rejected),
                (NotFound, ErrorClass::NotFound),
                (Denied, ErrorClass::AccessDenied),
                (Throttled, ErrorClass::Throttled),
                (Unavailable, ErrorClass::Unavailable),
                (Other, ErrorClass::Internal),
            ]
        );
        for kind in Ec2ErrorKind::ALL {
            assert_eq!(
                kind.is_transient(),
                Ec2Error::new(kind, "C", "m").class().is_retryable() && kind != IncorrectState,
                "{kind:?}"
            );
        }
    }
}
