//! What a function's `App` implements so the Lambda runner (`lambda::run`) can serve it: one
//! `handle` per invocation.

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;

use crate::error::HandlerError;

/// A function invoked with events (EventBridge, S3, SQS, SNS, Step Functions, Alexa): the payload
/// arrives as JSON and `handle` parses it into its typed event with [`crate::event::parse`].
pub trait EventHandler {
    type Output: Serialize;
    fn handle(
        &self,
        event: LambdaEvent<Value>,
    ) -> impl Future<Output = Result<Self::Output, HandlerError>>;
}

/// A function behind API Gateway: one request, one answer (failures are answers too).
#[cfg(feature = "http")]
pub trait HttpHandler {
    fn handle(
        &self,
        request: lambda_http::Request,
    ) -> impl Future<Output = lambda_http::Response<lambda_http::Body>> + Send;
}
