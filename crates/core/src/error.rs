//! The fleet's closed vocabulary of failure classes.
//!
//! Lambda reports a failed invocation as `{errorType, errorMessage}`. Step Functions `Retry`/`Catch`
//! and the dead-letter handler route on `errorType`, so it is always one of [`ErrorClass`]: never a
//! Rust type path, never a free-form string. Every library error implements [`Classified`] and maps
//! each of its values to exactly one class.

use lambda_runtime::Diagnostic;
use std::fmt;
use std::str::FromStr;

/// Why something failed, as Step Functions, the dead-letter handler and an operator need to know it.
/// The README's table of error classes is checked against [`ErrorClass::ALL`] by a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// The event or request is malformed, or not meant for this function.
    InvalidEvent,
    /// A setting is missing, out of range, or names something unusable.
    InvalidConfig,
    /// IAM or a resource policy refused a call.
    AccessDenied,
    /// Something the function needs does not exist (a table, a secret, a task).
    NotFound,
    /// The target changed under us or is in the wrong state (a conditional write lost, a
    /// concurrent update, an instance in the wrong state).
    Conflict,
    /// AWS throttled a call after the SDK's own backoff.
    Throttled,
    /// A service failed (5xx), timed out or could not be reached.
    Unavailable,
    /// The run finished and reported, but some changes failed transiently.
    ActionsFailed,
    /// The function stopped before Lambda's timeout with work left to do.
    DeadlineReached,
    /// A person or a rule said no: an approval rejected, termination protection.
    Rejected,
    /// Stored state could not be read; the item must be repaired or removed.
    CorruptState,
    /// An unexpected answer or a bug: an unrecognised client error, a serialisation failure, a
    /// failed random source.
    Internal,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 12] = [
        Self::InvalidEvent,
        Self::InvalidConfig,
        Self::AccessDenied,
        Self::NotFound,
        Self::Conflict,
        Self::Throttled,
        Self::Unavailable,
        Self::ActionsFailed,
        Self::DeadlineReached,
        Self::Rejected,
        Self::CorruptState,
        Self::Internal,
    ];

    /// The `errorType` Lambda reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidEvent => "InvalidEvent",
            Self::InvalidConfig => "InvalidConfig",
            Self::AccessDenied => "AccessDenied",
            Self::NotFound => "NotFound",
            Self::Conflict => "Conflict",
            Self::Throttled => "Throttled",
            Self::Unavailable => "Unavailable",
            Self::ActionsFailed => "ActionsFailed",
            Self::DeadlineReached => "DeadlineReached",
            Self::Rejected => "Rejected",
            Self::CorruptState => "CorruptState",
            Self::Internal => "Internal",
        }
    }

    /// The class of an AWS error code, whatever the service. `None` for codes that say nothing
    /// general (the caller decides, usually by HTTP status).
    pub fn from_aws_code(code: &str) -> Option<ErrorClass> {
        use ErrorClass::*;
        Some(match code {
            "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceededException"
            | "SlowDown"
            | "LimitExceededException" => Throttled,
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "AuthorizationError"
            | "AuthFailure"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "SignatureDoesNotMatch"
            | "MissingAuthenticationToken"
            | "KMSAccessDeniedException" => AccessDenied,
            "ConditionalCheckFailedException"
            | "TransactionCanceledException"
            | "TransactionConflictException"
            | "ConflictException"
            | "IncorrectInstanceState"
            | "IncorrectState" => Conflict,
            "InternalError"
            | "InternalFailure"
            | "InternalServerError"
            | "InternalServerException"
            | "InternalErrorException"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "ServiceException"
            | "Unavailable"
            | "KMSThrottlingException" => Unavailable,
            c if c.ends_with("NotFound")
                || c.ends_with("NotFoundException")
                || c.ends_with("DoesNotExist")
                || c.starts_with("NoSuch")
                || c == "ParameterNotFound" =>
            {
                NotFound
            }
            _ => return None,
        })
    }

    /// The same invocation may succeed later, unchanged: Lambda's retry and a replay are worth it.
    /// The others fail the same way until someone fixes the input, a setting or the data.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Conflict
                | Self::Throttled
                | Self::Unavailable
                | Self::ActionsFailed
                | Self::DeadlineReached
        )
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not one of the fleet's classes (a Lambda or foreign `errorType`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a fleet error class")]
pub struct UnknownClass(pub String);

impl FromStr for ErrorClass {
    type Err = UnknownClass;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownClass(s.to_owned()))
    }
}

/// Implemented by every library error that can end an invocation.
pub trait Classified {
    fn class(&self) -> ErrorClass;
}

impl Classified for ErrorClass {
    fn class(&self) -> ErrorClass {
        *self
    }
}

/// A call to another service failed: which one, its class, and what it said. The shared payload
/// of the ports' errors, so an adapter classifies once (see `aws::service_error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service}: {detail}")]
pub struct ServiceError {
    pub service: &'static str,
    pub class: ErrorClass,
    pub detail: String,
}

impl ServiceError {
    pub fn new(service: &'static str, class: ErrorClass, detail: impl Into<String>) -> Self {
        Self {
            service,
            class,
            detail: detail.into(),
        }
    }
}

impl Classified for ServiceError {
    fn class(&self) -> ErrorClass {
        self.class
    }
}

/// What a handler returns on failure; converts into the runtime's `Diagnostic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    pub class: ErrorClass,
    pub message: String,
}

impl HandlerError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    /// The event or request cannot be acted on.
    pub fn invalid_event(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::InvalidEvent, message)
    }

    /// Wraps any classified library error, keeping its class and its message.
    pub fn from_error<E: Classified + fmt::Display>(error: &E) -> Self {
        Self::new(error.class(), error.to_string())
    }

    /// The `errorType` Lambda reports.
    pub fn error_type(&self) -> &'static str {
        self.class.as_str()
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}

impl std::error::Error for HandlerError {}

impl Classified for HandlerError {
    fn class(&self) -> ErrorClass {
        self.class
    }
}

impl From<crate::config::ConfigError> for HandlerError {
    fn from(error: crate::config::ConfigError) -> Self {
        Self::new(ErrorClass::InvalidConfig, error.to_string())
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Self {
        Diagnostic {
            error_type: error.class.as_str().to_owned(),
            error_message: error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_round_trips_and_only_transient_ones_are_retryable() {
        let retryable: Vec<&str> = ErrorClass::ALL
            .iter()
            .filter(|c| c.is_retryable())
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            retryable,
            [
                "Conflict",
                "Throttled",
                "Unavailable",
                "ActionsFailed",
                "DeadlineReached"
            ]
        );
        for class in ErrorClass::ALL {
            assert_eq!(class.as_str().parse::<ErrorClass>(), Ok(class));
            assert_eq!(class.to_string(), class.as_str());
        }
        assert!("Ec2Unavailable".parse::<ErrorClass>().is_err());
        assert!("Runtime.ExitError".parse::<ErrorClass>().is_err());
    }

    #[test]
    fn diagnostic_carries_the_class_not_the_rust_type() {
        let error = ServiceError::new("SNS", ErrorClass::Throttled, "Throttling: Rate exceeded");
        let diagnostic: Diagnostic = HandlerError::from_error(&error).into();
        assert_eq!(diagnostic.error_type, "Throttled");
        assert_eq!(diagnostic.error_message, "SNS: Throttling: Rate exceeded");
    }

    #[test]
    fn a_config_error_is_invalid_config() {
        let error: HandlerError = crate::config::ConfigError::Missing {
            name: "STATE_TABLE".into(),
        }
        .into();
        assert_eq!(error.error_type(), "InvalidConfig");
        assert_eq!(error.message, "missing environment variable STATE_TABLE");
    }
}
