//! Error classification shared by every handler.
//!
//! Lambda reports a failed invocation as `{errorType, errorMessage}`. Step Functions `Retry`/`Catch`
//! and the dead-letter-queue handler route on `errorType`, so it must name the class of failure,
//! not a Rust type path.

use lambda_runtime::Diagnostic;

/// Implemented by every library error that can end an invocation.
pub trait ErrorType {
    /// A stable, meaningful name such as `InvalidEvent`, `Throttled` or `DependencyFailed`.
    fn error_type(&self) -> &'static str;
}

/// What a handler returns on failure; converts into the runtime's `Diagnostic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    pub error_type: &'static str,
    pub message: String,
}

impl HandlerError {
    pub fn new(error_type: &'static str, message: impl Into<String>) -> Self {
        Self {
            error_type,
            message: message.into(),
        }
    }

    /// Wraps any classified library error, keeping its class and its message.
    pub fn from_error<E: ErrorType + std::fmt::Display>(error: &E) -> Self {
        Self::new(error.error_type(), error.to_string())
    }
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for HandlerError {}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Self {
        Diagnostic {
            error_type: error.error_type.to_owned(),
            error_message: error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("rate exceeded")]
    struct Throttle;

    impl ErrorType for Throttle {
        fn error_type(&self) -> &'static str {
            "Throttled"
        }
    }

    #[test]
    fn diagnostic_carries_the_class_not_the_rust_type() {
        let diagnostic: Diagnostic = HandlerError::from_error(&Throttle).into();
        assert_eq!(diagnostic.error_type, "Throttled");
        assert_eq!(diagnostic.error_message, "rate exceeded");
    }
}
