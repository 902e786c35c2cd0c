//! The SMS delivery step: SQS batches of queued code requests. Each message is delivered at
//! least once; the message id makes a redelivery send no second SMS. A message that fails (the
//! SMS or the store failed, or it cannot be read) is returned in `batchItemFailures` and tried
//! again; after the queue's receive count it moves to the dead-letter queue, whose depth alarms.
//! The API's answer never depended on any of it.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::ports::QueuedRequest;
use fleet_core::{Classified, EventHandler, HandlerError};
use fleet_otp::{CodeRequest, Delivery, OtpService};

pub struct Sender<O> {
    pub otp: O,
}

impl<O: OtpService> EventHandler for Sender<O> {
    type Output = SqsBatchResponse;

    async fn handle(&self, event: LambdaEvent<Value>) -> Result<SqsBatchResponse, HandlerError> {
        let batch: SqsEvent = fleet_core::event::parse(event.payload, "an SQS event")?;
        let mut response = SqsBatchResponse::default();
        for message in batch.records {
            let id = message.message_id.clone().unwrap_or_default();
            if let Err(reason) = self.deliver(&id, message.body.as_deref()).await {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
                tracing::error!(error_type = reason.0, error = %reason.1, "code delivery failed; SQS delivers it again");
            }
        }
        Ok(response)
    }
}

impl<O: OtpService> Sender<O> {
    /// `Err((error_type, message))` when the message must be delivered again.
    async fn deliver(&self, id: &str, body: Option<&str>) -> Result<(), (&'static str, String)> {
        let invalid = |e: String| ("InvalidEvent", e);
        if id.is_empty() {
            return Err(invalid("a message without a messageId".into()));
        }
        let request: QueuedRequest = serde_json::from_str(body.unwrap_or_default())
            .map_err(|e| invalid(format!("message {id} is not a code request: {e}")))?;
        let code_request = CodeRequest {
            user: &request.user,
            purpose: &request.purpose,
            id: Some(id),
        };
        match self.otp.deliver_code(code_request).await {
            Ok(delivery) => {
                let outcome = match delivery {
                    Delivery::Sent => "sent",
                    Delivery::AlreadySent => "already sent",
                    Delivery::UnknownUser => "unknown user",
                    Delivery::Limited { .. } => "phone's cap reached",
                };
                tracing::info!(message = id, user = %request.user, purpose = %request.purpose, outcome, "code request delivered");
                Ok(())
            }
            Err(e) => Err((e.class().as_str(), format!("message {id}: {e}"))),
        }
    }
}
