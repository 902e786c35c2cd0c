//! The ports the approval service runs on: domain types only; `aws.rs` owns the SDK details and
//! `memory.rs` has the fakes.

use std::future::Future;

use fleet_core::{Classified, ErrorClass, ServiceError};

use crate::email::Email;
use crate::model::{ApprovalRequest, Change, Status};

/// What `create` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    New,
    /// The same task token was stored before (a retried callback invocation): that request.
    Existing(Box<ApprovalRequest>),
}

/// The approvals table.
pub trait ApprovalStore: Send + Sync {
    /// Stores a new request, keyed also by its task token so the same token is stored once.
    fn create(
        &self,
        request: &ApprovalRequest,
    ) -> impl Future<Output = Result<Created, ServiceError>> + Send;

    /// A strongly consistent read.
    fn get(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<ApprovalRequest>, ServiceError>> + Send;

    /// Applies `change` only while the request is in `expected` (and the change's own condition
    /// holds, see [`Change::allowed`]). `Ok(false)`: the condition failed, nothing changed.
    fn update(
        &self,
        id: &str,
        expected: Status,
        change: &Change,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    /// Every request in one of `statuses`, all pages.
    fn list(
        &self,
        statuses: &[Status],
    ) -> impl Future<Output = Result<Vec<ApprovalRequest>, ServiceError>> + Send;
}

/// Why Step Functions no longer takes a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    TaskTimedOut,
    TaskDoesNotExist,
    InvalidToken,
}

impl Gone {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TaskTimedOut => "TaskTimedOut",
            Self::TaskDoesNotExist => "TaskDoesNotExist",
            Self::InvalidToken => "InvalidToken",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The task ended, never existed, or the token is not one: the decision cannot reach it.
    #[error("Step Functions: {}: the task no longer takes this token", .0.as_str())]
    Gone(Gone),
    #[error(transparent)]
    Service(ServiceError),
}

impl Classified for SendError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Gone(_) => ErrorClass::NotFound,
            Self::Service(e) => e.class,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    /// PENDING_REDRIVE or a status this code does not know.
    Other,
}

/// What `DescribeExecution` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
}

/// `SendTaskSuccess`, `SendTaskFailure`, `DescribeExecution`.
pub trait TaskCallbacks: Send + Sync {
    fn send_success(
        &self,
        token: &str,
        output: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    fn send_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;

    fn describe_execution(
        &self,
        execution_arn: &str,
    ) -> impl Future<Output = Result<Execution, ServiceError>> + Send;
}

/// A task handed out by `GetActivityTask`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityTask {
    pub token: String,
    pub input: String,
}

/// `GetActivityTask` on the configured activity (a long poll of up to 60 s).
pub trait ActivityTasks: Send + Sync {
    /// `Ok(None)`: no task arrived during the poll.
    fn next_task(&self) -> impl Future<Output = Result<Option<ActivityTask>, ServiceError>> + Send;
}

/// Sends one email (SES v2).
pub trait Mailer: Send + Sync {
    fn send(&self, email: &Email) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

/// Reads a secret's string (the signing key) once per container.
pub trait SecretSource: Send + Sync {
    fn secret_string(&self, id: &str) -> impl Future<Output = Result<String, ServiceError>> + Send;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSent {
    Sent,
    /// Sent too recently (the OTP library's cooldown); the last code still counts.
    TooSoon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Valid,
    Invalid,
    /// Too many wrong codes: no more tries for a while.
    Locked,
}

/// The step-up before a POST counts: a one-time code sent to the approver by the fleet's OTP
/// library. `purpose` binds a code to one request.
pub trait StepUp: Send + Sync {
    fn send_code(
        &self,
        approver: &str,
        purpose: &str,
    ) -> impl Future<Output = Result<CodeSent, ServiceError>> + Send;

    fn verify(
        &self,
        approver: &str,
        purpose: &str,
        code: &str,
    ) -> impl Future<Output = Result<CodeCheck, ServiceError>> + Send;
}

/// The step-up when it is switched off: never called (the service checks the setting first); if
/// it were, it refuses.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStepUp;

impl StepUp for NoStepUp {
    async fn send_code(&self, _approver: &str, _purpose: &str) -> Result<CodeSent, ServiceError> {
        Err(ServiceError::new(
            "step-up",
            ErrorClass::InvalidConfig,
            "no step-up is configured",
        ))
    }

    async fn verify(
        &self,
        _approver: &str,
        _purpose: &str,
        _code: &str,
    ) -> Result<CodeCheck, ServiceError> {
        Ok(CodeCheck::Invalid)
    }
}
