//! Tracing setup for a Lambda function.

/// Installs the runtime's subscriber: JSON lines when Lambda's log format is JSON (the template sets
/// `LoggingConfig.LogFormat: JSON`), level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}
