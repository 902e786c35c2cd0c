//! The API's own port: the queue between a code request and its delivery.

use serde::{Deserialize, Serialize};
use std::future::Future;

use fleet_core::ServiceError;

/// A code request waiting for the delivery step. It carries no code: the code is made when it
/// is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedRequest {
    pub user: String,
    pub purpose: String,
}

/// Every send request is queued, whoever it is for, so the API does the same work for a known
/// and an unknown user; a separate step delivers the SMS.
pub trait CodeQueue: Send + Sync {
    fn enqueue(
        &self,
        request: &QueuedRequest,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}
