//! The code-request queue on SQS.

use crate::ports::{CodeQueue, QueuedRequest};
use fleet_core::aws::service_error;
use fleet_core::{ErrorClass, ServiceError};

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

impl CodeQueue for SqsQueue {
    async fn enqueue(&self, request: &QueuedRequest) -> Result<(), ServiceError> {
        let body = serde_json::to_string(request)
            .map_err(|e| ServiceError::new("SQS", ErrorClass::Internal, e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| service_error("SQS", &e))
    }
}
