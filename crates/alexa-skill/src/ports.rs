//! The skill's own ports (EC2 is the fleet's shared port, the codes the shared OTP library).

use chrono::{DateTime, Utc};
use std::future::Future;

pub use fleet_core::ServiceError;

/// A Kinesis data stream and its open shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub name: String,
    pub shards: u32,
}

pub trait Streams: Send + Sync {
    fn streams(&self) -> impl Future<Output = Result<Vec<Stream>, ServiceError>> + Send;
}

/// Who may change instances until when (10 minutes after authenticating), across sessions.
pub trait AccessStore: Send + Sync {
    fn granted_until(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, ServiceError>> + Send;

    fn grant(
        &self,
        user_id: &str,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}
