//! In-memory adapters that behave like AWS where the service relies on it: conditional writes and
//! one item per task token (DynamoDB), tokens that are taken once and then answer `TaskTimedOut`
//! (Step Functions), activity tasks handed out once, mail kept for reading back. Failures can be
//! scripted. For tests, the benchmark and local runs.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use fleet_core::{ErrorClass, ServiceError};

use crate::email::Email;
use crate::model::{ApprovalRequest, Change, Status};
use crate::ports::{
    ActivityTask, ActivityTasks, ApprovalStore, CodeCheck, CodeSent, Created, Execution,
    ExecutionStatus, Gone, Mailer, SecretSource, SendError, StepUp, TaskCallbacks,
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The approvals table.
#[derive(Debug, Default)]
pub struct MemoryStore {
    requests: Mutex<BTreeMap<String, ApprovalRequest>>,
    /// Task token → request id.
    tokens: Mutex<HashMap<String, String>>,
    /// Fail the next calls (any method) with these errors.
    pub failures: Mutex<VecDeque<ServiceError>>,
}

impl MemoryStore {
    pub fn fail_next(&self, error: ServiceError) {
        lock(&self.failures).push_back(error);
    }

    fn injected(&self) -> Result<(), ServiceError> {
        lock(&self.failures).pop_front().map_or(Ok(()), Err)
    }

    pub fn all(&self) -> Vec<ApprovalRequest> {
        lock(&self.requests).values().cloned().collect()
    }

    /// Puts a request as it is (tests that start from a given state).
    pub fn insert(&self, request: ApprovalRequest) {
        lock(&self.tokens).insert(request.task_token.clone(), request.id.clone());
        lock(&self.requests).insert(request.id.clone(), request);
    }
}

impl ApprovalStore for MemoryStore {
    async fn create(&self, request: &ApprovalRequest) -> Result<Created, ServiceError> {
        self.injected()?;
        let mut tokens = lock(&self.tokens);
        let mut requests = lock(&self.requests);
        if let Some(existing) = tokens.get(&request.task_token) {
            return requests
                .get(existing)
                .cloned()
                .map(|r| Created::Existing(Box::new(r)))
                .ok_or_else(|| {
                    ServiceError::new(
                        "DynamoDB",
                        ErrorClass::CorruptState,
                        "token index without its request",
                    )
                });
        }
        if requests.contains_key(&request.id) {
            return Err(ServiceError::new(
                "DynamoDB",
                ErrorClass::Conflict,
                "ConditionalCheckFailed: the id exists",
            ));
        }
        tokens.insert(request.task_token.clone(), request.id.clone());
        requests.insert(request.id.clone(), request.clone());
        Ok(Created::New)
    }

    async fn get(&self, id: &str) -> Result<Option<ApprovalRequest>, ServiceError> {
        self.injected()?;
        Ok(lock(&self.requests).get(id).cloned())
    }

    async fn update(
        &self,
        id: &str,
        expected: Status,
        change: &Change,
    ) -> Result<bool, ServiceError> {
        self.injected()?;
        let mut requests = lock(&self.requests);
        match requests.get_mut(id) {
            Some(request) if change.allowed(request, expected) => {
                change.apply(request);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn list(&self, statuses: &[Status]) -> Result<Vec<ApprovalRequest>, ServiceError> {
        self.injected()?;
        let mut out: Vec<ApprovalRequest> = lock(&self.requests)
            .values()
            .filter(|r| statuses.contains(&r.status))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }
}

/// One call Step Functions received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskCall {
    Success {
        token: String,
        output: String,
    },
    Failure {
        token: String,
        error: String,
        cause: String,
    },
    Describe {
        execution_arn: String,
    },
}

/// Step Functions: tokens registered with their execution; a token takes one answer, later ones
/// get `TaskTimedOut` (as AWS answers for a used token), unknown ones `InvalidToken`.
#[derive(Debug, Default)]
pub struct FakeStepFunctions {
    /// Token → execution ARN.
    live: Mutex<HashMap<String, String>>,
    used: Mutex<HashMap<String, String>>,
    executions: Mutex<HashMap<String, Execution>>,
    pub calls: Mutex<Vec<TaskCall>>,
    /// Fail the next sends with these errors (nothing reaches the task).
    pub send_failures: Mutex<VecDeque<SendError>>,
    /// The next send is applied but its answer is lost (a timeout after AWS took it).
    pub lose_next_answer: AtomicBool,
}

impl FakeStepFunctions {
    /// A running execution waiting on `token`.
    pub fn start(&self, execution_arn: &str, token: &str) {
        lock(&self.live).insert(token.to_owned(), execution_arn.to_owned());
        lock(&self.executions).insert(
            execution_arn.to_owned(),
            Execution {
                status: ExecutionStatus::Running,
                output: None,
                error: None,
            },
        );
    }

    /// The task's timeout passed: the token is gone, the execution failed with States.Timeout.
    pub fn time_out(&self, token: &str) {
        if let Some(arn) = lock(&self.live).remove(token) {
            lock(&self.used).insert(token.to_owned(), arn.clone());
            lock(&self.executions).insert(
                arn,
                Execution {
                    status: ExecutionStatus::Failed,
                    output: None,
                    error: Some("States.Timeout".to_owned()),
                },
            );
        }
    }

    pub fn execution(&self, arn: &str) -> Option<Execution> {
        lock(&self.executions).get(arn).cloned()
    }

    pub fn calls(&self) -> Vec<TaskCall> {
        lock(&self.calls).clone()
    }

    fn answer(&self, token: &str, outcome: Execution) -> Result<(), SendError> {
        if let Some(error) = lock(&self.send_failures).pop_front() {
            return Err(error);
        }
        let Some(arn) = lock(&self.live).remove(token) else {
            return Err(SendError::Gone(if lock(&self.used).contains_key(token) {
                Gone::TaskTimedOut
            } else {
                Gone::InvalidToken
            }));
        };
        lock(&self.used).insert(token.to_owned(), arn.clone());
        lock(&self.executions).insert(arn, outcome);
        if self.lose_next_answer.swap(false, Ordering::SeqCst) {
            return Err(SendError::Service(ServiceError::new(
                "Step Functions",
                ErrorClass::Unavailable,
                "timeout waiting for the answer",
            )));
        }
        Ok(())
    }
}

impl TaskCallbacks for FakeStepFunctions {
    async fn send_success(&self, token: &str, output: &str) -> Result<(), SendError> {
        lock(&self.calls).push(TaskCall::Success {
            token: token.to_owned(),
            output: output.to_owned(),
        });
        self.answer(
            token,
            Execution {
                status: ExecutionStatus::Succeeded,
                output: Some(output.to_owned()),
                error: None,
            },
        )
    }

    async fn send_failure(&self, token: &str, error: &str, cause: &str) -> Result<(), SendError> {
        lock(&self.calls).push(TaskCall::Failure {
            token: token.to_owned(),
            error: error.to_owned(),
            cause: cause.to_owned(),
        });
        self.answer(
            token,
            Execution {
                status: ExecutionStatus::Failed,
                output: None,
                error: Some(error.to_owned()),
            },
        )
    }

    async fn describe_execution(&self, execution_arn: &str) -> Result<Execution, ServiceError> {
        lock(&self.calls).push(TaskCall::Describe {
            execution_arn: execution_arn.to_owned(),
        });
        self.execution(execution_arn).ok_or_else(|| {
            ServiceError::new(
                "Step Functions",
                ErrorClass::NotFound,
                "ExecutionDoesNotExist",
            )
        })
    }
}

/// An activity: tasks queued by the test, each handed out once.
#[derive(Debug, Default)]
pub struct FakeActivity {
    pub queue: Mutex<VecDeque<Result<ActivityTask, ServiceError>>>,
    pub polls: std::sync::atomic::AtomicUsize,
}

impl FakeActivity {
    pub fn push(&self, token: &str, input: &str) {
        lock(&self.queue).push_back(Ok(ActivityTask {
            token: token.to_owned(),
            input: input.to_owned(),
        }));
    }

    pub fn push_error(&self, error: ServiceError) {
        lock(&self.queue).push_back(Err(error));
    }
}

impl ActivityTasks for FakeActivity {
    async fn next_task(&self) -> Result<Option<ActivityTask>, ServiceError> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        lock(&self.queue).pop_front().transpose()
    }
}

/// Keeps every email; scripted failures first.
#[derive(Debug, Default)]
pub struct RecordingMailer {
    pub sent: Mutex<Vec<Email>>,
    pub failures: Mutex<VecDeque<ServiceError>>,
}

impl RecordingMailer {
    pub fn sent(&self) -> Vec<Email> {
        lock(&self.sent).clone()
    }

    pub fn fail_next(&self, error: ServiceError) {
        lock(&self.failures).push_back(error);
    }
}

impl Mailer for RecordingMailer {
    async fn send(&self, email: &Email) -> Result<(), ServiceError> {
        if let Some(error) = lock(&self.failures).pop_front() {
            return Err(error);
        }
        lock(&self.sent).push(email.clone());
        Ok(())
    }
}

/// The step-up's fake: each code sent is `123456` plus a counter, valid once for its approver and
/// purpose; three wrong codes lock.
#[derive(Debug, Default)]
pub struct FakeStepUp {
    /// (approver, purpose, code) of every code sent.
    pub sent: Mutex<Vec<(String, String, String)>>,
    wrong: Mutex<HashMap<String, u32>>,
}

impl FakeStepUp {
    pub fn last_code(&self) -> Option<String> {
        lock(&self.sent).last().map(|(_, _, c)| c.clone())
    }
}

impl StepUp for FakeStepUp {
    async fn send_code(&self, approver: &str, purpose: &str) -> Result<CodeSent, ServiceError> {
        let mut sent = lock(&self.sent);
        let code = format!("{}", 123_456 + sent.len());
        sent.push((approver.to_owned(), purpose.to_owned(), code));
        Ok(CodeSent::Sent)
    }

    async fn verify(
        &self,
        approver: &str,
        purpose: &str,
        code: &str,
    ) -> Result<CodeCheck, ServiceError> {
        let key = format!("{approver}\n{purpose}");
        if lock(&self.wrong).get(&key).copied().unwrap_or(0) >= 3 {
            return Ok(CodeCheck::Locked);
        }
        let mut sent = lock(&self.sent);
        let found = sent
            .iter()
            .position(|(a, p, c)| a == approver && p == purpose && c == code);
        match found {
            Some(i) => {
                sent.remove(i);
                Ok(CodeCheck::Valid)
            }
            None => {
                *lock(&self.wrong).entry(key).or_insert(0) += 1;
                Ok(CodeCheck::Invalid)
            }
        }
    }
}

/// Secrets by id.
#[derive(Debug, Default)]
pub struct MemorySecrets(pub HashMap<String, String>);

impl SecretSource for MemorySecrets {
    async fn secret_string(&self, id: &str) -> Result<String, ServiceError> {
        self.0.get(id).cloned().ok_or_else(|| {
            ServiceError::new(
                "Secrets Manager",
                ErrorClass::NotFound,
                format!("ResourceNotFoundException: {id}"),
            )
        })
    }
}
