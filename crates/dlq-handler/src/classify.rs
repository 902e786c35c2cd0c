//! Why an invocation failed, as an operator triages it, and what to do about it.
//!
//! A failure is classified from what Lambda hands over: the `errorType` of an on-failure
//! destination record (for the fleet's functions, one of [`ErrorClass`]), the error message (all
//! a dead-letter queue message carries), the destination's `condition` and the DLQ's
//! `ErrorCode` (the HTTP status of the invoke).

use fleet_core::ErrorClass;
use std::fmt;
use std::str::FromStr;

/// The classes the archive, the digest and `fleet dlq` route on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureClass {
    /// Lambda's timeout (`Task timed out after N seconds`), or the fleet's `DeadlineReached`.
    Timeout,
    /// `Runtime.OutOfMemory`, `signal: killed`, exit status 137.
    OutOfMemory,
    /// The runtime process died without an answer: `Runtime.ExitError`, `Process exited before
    /// completing request`, `Runtime exited without providing a reason`.
    Crash,
    /// A Rust handler panicked (lambda_runtime reports `Lambda panicked: …`).
    Panic,
    /// Handler or entry point missing, an init error, the fleet's `InvalidConfig`.
    Misconfiguration,
    /// Something the function needs does not exist (the fleet's `NotFound`: a table, a secret).
    MissingResource,
    /// AWS or Lambda throttled (the fleet's `Throttled`, an invoke answered 429).
    Throttled,
    /// IAM or a resource policy refused (the fleet's `AccessDenied`).
    AccessDenied,
    /// The event itself is wrong (the fleet's `InvalidEvent`).
    BadInput,
    /// A dependency failed transiently (the fleet's `Unavailable`, `Conflict`, `ActionsFailed`,
    /// or a 5xx from Lambda itself).
    DependencyFailure,
    /// A person or a rule said no (the fleet's `Rejected`).
    Rejected,
    /// Stored state could not be read (the fleet's `CorruptState`).
    CorruptState,
    /// A bug or an unexpected answer (the fleet's `Internal`).
    Bug,
    /// Lambda gave up before running it: the event was older than `MaximumEventAgeInSeconds`
    /// (`EventAgeExceeded`).
    TooOld,
    /// A failure we cannot tell apart.
    Unknown,
    /// Not a failure record at all: archived raw.
    Unparseable,
}

/// Whether replaying the event unchanged is expected to work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayAdvice {
    /// A transient cause: replaying the same event can succeed.
    Safe,
    /// It would fail the same way until something is fixed; `fleet dlq replay` refuses without
    /// `--force`.
    FixFirst,
    /// There is no event to replay.
    Impossible,
}

/// What an operator should do with failures of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    pub replay: ReplayAdvice,
    pub text: &'static str,
}

impl FailureClass {
    pub const ALL: [FailureClass; 16] = [
        Self::Timeout,
        Self::OutOfMemory,
        Self::Crash,
        Self::Panic,
        Self::Misconfiguration,
        Self::MissingResource,
        Self::Throttled,
        Self::AccessDenied,
        Self::BadInput,
        Self::DependencyFailure,
        Self::Rejected,
        Self::CorruptState,
        Self::Bug,
        Self::TooOld,
        Self::Unknown,
        Self::Unparseable,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "Timeout",
            Self::OutOfMemory => "OutOfMemory",
            Self::Crash => "Crash",
            Self::Panic => "Panic",
            Self::Misconfiguration => "Misconfiguration",
            Self::MissingResource => "MissingResource",
            Self::Throttled => "Throttled",
            Self::AccessDenied => "AccessDenied",
            Self::BadInput => "BadInput",
            Self::DependencyFailure => "DependencyFailure",
            Self::Rejected => "Rejected",
            Self::CorruptState => "CorruptState",
            Self::Bug => "Bug",
            Self::TooOld => "TooOld",
            Self::Unknown => "Unknown",
            Self::Unparseable => "Unparseable",
        }
    }

    /// The class of a fleet function's `errorType`: every [`ErrorClass`] maps to exactly one.
    pub const fn from_fleet(class: ErrorClass) -> Self {
        match class {
            ErrorClass::InvalidEvent => Self::BadInput,
            ErrorClass::InvalidConfig => Self::Misconfiguration,
            ErrorClass::AccessDenied => Self::AccessDenied,
            ErrorClass::NotFound => Self::MissingResource,
            ErrorClass::Throttled => Self::Throttled,
            ErrorClass::Conflict | ErrorClass::Unavailable | ErrorClass::ActionsFailed => {
                Self::DependencyFailure
            }
            ErrorClass::DeadlineReached => Self::Timeout,
            ErrorClass::Rejected => Self::Rejected,
            ErrorClass::CorruptState => Self::CorruptState,
            ErrorClass::Internal => Self::Bug,
        }
    }

    pub const fn advice(self) -> Advice {
        use ReplayAdvice::*;
        let (replay, text) = match self {
            Self::Timeout => (
                Safe,
                "Often a slow dependency: replay is safe (the fleet's functions are idempotent). If it times out again, raise the function's Timeout or find the slow call in its log.",
            ),
            Self::OutOfMemory => (
                FixFirst,
                "The same event will exhaust memory again: raise MemorySize (or fix the leak), deploy, then replay with --force.",
            ),
            Self::Crash => (
                FixFirst,
                "The process died without an answer (often out of memory or an abort): read the function's log for the request id, fix, then replay with --force.",
            ),
            Self::Panic => (
                FixFirst,
                "A bug: the same event panics again. Fix the code, deploy, then replay with --force.",
            ),
            Self::Misconfiguration => (
                FixFirst,
                "Handler, entry point or a setting is wrong: every invocation fails until the deployment is fixed. Fix it, then replay with --force.",
            ),
            Self::MissingResource => (
                FixFirst,
                "Something the function needs does not exist (a table, a secret, a topic): create it or fix the setting naming it, then replay with --force.",
            ),
            Self::Throttled => (
                Safe,
                "Throttled after all retries: replay is safe, at a gentle --rate; raise the quota or reserved concurrency if it recurs.",
            ),
            Self::AccessDenied => (
                FixFirst,
                "IAM or a resource policy refused a call: grant the permission (least privilege), then replay with --force.",
            ),
            Self::BadInput => (
                FixFirst,
                "The event itself is malformed or not meant for this function: replaying sends the same event. Fix the sender; replay with --force only if the function was changed to accept it.",
            ),
            Self::DependencyFailure => (
                Safe,
                "A dependency failed transiently (5xx, a lost conditional write, some changes failed): replay is safe.",
            ),
            Self::Rejected => (
                FixFirst,
                "A person or a rule said no: replaying repeats the request. Replay with --force only if the decision changed.",
            ),
            Self::CorruptState => (
                FixFirst,
                "Stored state could not be read: repair or remove the item named in the message, then replay with --force.",
            ),
            Self::Bug => (
                FixFirst,
                "An unexpected answer or a bug: read the message and the log, fix, then replay with --force.",
            ),
            Self::TooOld => (
                Safe,
                "Lambda dropped the event unprocessed because it waited longer than MaximumEventAgeInSeconds (throttling or a backlog): replay it if it still matters.",
            ),
            Self::Unknown => (
                FixFirst,
                "The cause could not be told apart: read the function's log for the request id before replaying (--force).",
            ),
            Self::Unparseable => (
                Impossible,
                "Not a Lambda failure record: the raw message is archived. Find out who sent it to the failure queue.",
            ),
        };
        Advice { replay, text }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a failure class (one of: Timeout, OutOfMemory, Crash, Panic, Misconfiguration, MissingResource, Throttled, AccessDenied, BadInput, DependencyFailure, Rejected, CorruptState, Bug, TooOld, Unknown, Unparseable)")]
pub struct UnknownFailureClass(pub String);

impl FromStr for FailureClass {
    type Err = UnknownFailureClass;

    /// The class name, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFailureClass(s.to_owned()))
    }
}

/// What a failure record says about itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence<'a> {
    /// `responsePayload.errorType` of a destination record.
    pub error_type: Option<&'a str>,
    /// `responsePayload.errorMessage`, or a DLQ message's `ErrorMessage` attribute.
    pub message: &'a str,
    /// `requestContext.condition` of a destination record.
    pub condition: Option<&'a str>,
    /// A DLQ message's `ErrorCode` attribute: the HTTP status of the invoke (200 for a function
    /// error, 429 throttled, 5xx Lambda itself).
    pub error_code: Option<&'a str>,
}

/// The class of a failure: the destination's condition first, then the reported `errorType`,
/// then what Lambda's own messages say, then the invoke's status code.
pub fn classify(evidence: &Evidence<'_>) -> FailureClass {
    if evidence.condition == Some("EventAgeExceeded") {
        return FailureClass::TooOld;
    }
    if let Some(error_type) = evidence.error_type {
        if let Ok(class) = error_type.parse::<ErrorClass>() {
            return FailureClass::from_fleet(class);
        }
        if let Some(class) = lambda_error_type(error_type, evidence.message) {
            return class;
        }
    }
    if let Some(class) = lambda_message(evidence.message) {
        return class;
    }
    match evidence
        .error_code
        .and_then(|c| c.trim().parse::<u16>().ok())
    {
        Some(429) => FailureClass::Throttled,
        Some(500..=599) => FailureClass::DependencyFailure,
        _ => FailureClass::Unknown,
    }
}

/// Lambda's own `errorType`s.
fn lambda_error_type(error_type: &str, message: &str) -> Option<FailureClass> {
    Some(match error_type {
        "Sandbox.Timedout" | "Runtime.Timeout" => FailureClass::Timeout,
        "Runtime.OutOfMemory" => FailureClass::OutOfMemory,
        // The exit error says how the process ended: a SIGKILL (137) is the out-of-memory kill.
        "Runtime.ExitError" => {
            if is_out_of_memory(message) {
                FailureClass::OutOfMemory
            } else {
                FailureClass::Crash
            }
        }
        "Runtime.HandlerNotFound"
        | "Runtime.ImportModuleError"
        | "Runtime.InvalidEntrypoint"
        | "Runtime.InvalidEntryPoint"
        | "Runtime.UserCodeSyntaxError"
        | "Runtime.InitError"
        | "Runtime.MissingExtension"
        | "Runtime.BadFunctionCode"
        | "Runtime.ConfigInvalid"
        | "Runtime.CallbackHandlerDeprecated" => FailureClass::Misconfiguration,
        "Runtime.Unknown" => return lambda_message(message),
        // lambda_runtime's panic diagnostic names the payload's type.
        t if t.contains("core::any::Any") => FailureClass::Panic,
        _ => return None,
    })
}

fn is_out_of_memory(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "runtime.outofmemory",
        "signal: killed",
        "exit status 137",
        "out of memory",
        "outofmemoryerror",
        "memoryerror",
        "heap out of memory",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// What Lambda's (and the runtimes') messages say when there is no `errorType` to go by.
fn lambda_message(message: &str) -> Option<FailureClass> {
    let lower = message.to_ascii_lowercase();
    let has = |patterns: &[&str]| patterns.iter().any(|p| lower.contains(p));
    if has(&["lambda panicked"]) {
        Some(FailureClass::Panic)
    } else if has(&["task timed out after", "sandbox.timedout"]) {
        Some(FailureClass::Timeout)
    } else if is_out_of_memory(message) {
        Some(FailureClass::OutOfMemory)
    } else if has(&[
        "process exited before completing request",
        "runtime exited without providing a reason",
        "runtime exited with error",
        "runtime.exiterror",
        "signal: aborted",
        "segmentation fault",
    ]) {
        Some(FailureClass::Crash)
    } else if has(&[
        "cannot find module",
        "unable to import module",
        "handler not found",
        "runtime.handlernotfound",
        "couldn't find valid bootstrap",
        "runtime.invalidentrypoint",
        "runtime.initerror",
        "runtime.importmoduleerror",
        "missing environment variable",
    ]) {
        Some(FailureClass::Misconfiguration)
    } else if has(&[
        "resourcenotfoundexception",
        "nosuchbucket",
        "parameternotfound",
        "queuedoesnotexist",
    ]) {
        Some(FailureClass::MissingResource)
    } else if has(&[
        "toomanyrequestsexception",
        "rate exceeded",
        "throttlingexception",
        "requestlimitexceeded",
    ]) {
        Some(FailureClass::Throttled)
    } else if has(&[
        "accessdenied",
        "access denied",
        "is not authorized to perform",
    ]) {
        Some(FailureClass::AccessDenied)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_fleet_class_maps() {
        for class in FailureClass::ALL {
            assert_eq!(class.as_str().parse::<FailureClass>(), Ok(class));
            assert_eq!(
                class.as_str().to_lowercase().parse::<FailureClass>(),
                Ok(class)
            );
        }
        assert!("Slow".parse::<FailureClass>().is_err());
        for class in ErrorClass::ALL {
            // A retryable fleet class is safe to replay, and the other way round.
            let mapped = FailureClass::from_fleet(class);
            assert_eq!(
                mapped.advice().replay == ReplayAdvice::Safe,
                class.is_retryable(),
                "{class} → {mapped}"
            );
        }
    }
}
