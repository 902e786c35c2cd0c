//! The approval service: one model for activity and callback tokens. Intake (store the token under
//! a random id before anything else, check who may approve, email), the page (GET never decides),
//! the decision (a POST with a valid signature decides once, by a conditional write), delivery to
//! Step Functions (a retry resends only the recorded decision), and the sweep (expiry, reminders,
//! redelivery).

use chrono::{DateTime, Duration, Utc};
use fleet_core::{Classified, Env, ErrorClass, ServiceError};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::email::{approval_email, clean_line};
use crate::model::{
    rfc3339, ApprovalRequest, Change, Decision, Pattern, Status, Verdict, REJECTED_ERROR,
};
use crate::policy::{normalize_address, ApproverPolicy};
use crate::ports::{
    ApprovalStore, CodeCheck, CodeSent, Created, Execution, ExecutionStatus, Mailer, SendError,
    StepUp, TaskCallbacks,
};
use crate::sign::{link, SigningKey};

/// The error a refused request's task fails with (approver not allowed, email not sendable).
pub const REFUSED_ERROR: &str = "ApprovalRefused";

/// Comments longer than this are cut.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// Fields of the task input that steer the request rather than describe it.
const ENVELOPE_FIELDS: [&str; 7] = [
    "managerEmailAddress",
    "approver",
    "requestedBy",
    "subject",
    "timeoutSeconds",
    "workflow",
    "executionArn",
];

#[derive(Debug, Clone)]
pub struct Settings {
    /// The HTTP API's URL, for links. The responder has none (its API points at it).
    pub base_url: Option<String>,
    /// A verified SES identity.
    pub sender: String,
    /// For inputs that name no workflow (the seed's bare input).
    pub default_workflow: String,
    /// A request expires with its task: the state's timeout, when the input does not give it.
    pub default_timeout: Duration,
    /// One reminder at half of the time left.
    pub reminders: bool,
    /// A one-time code to the approver before a POST counts.
    pub require_step_up: bool,
}

/// A task token and its input, from either pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingTask {
    pub pattern: Pattern,
    pub token: String,
    pub input: Value,
    pub execution_arn: Option<String>,
    pub workflow: Option<String>,
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// The token was not stored: the caller must not drop it silently.
    #[error("the task could not be stored: {0}")]
    NotStored(ServiceError),
    /// Stored, but a later step failed; a retry (or the sweep) finishes it.
    #[error("request {id} is stored but {step} failed: {error}")]
    Incomplete {
        id: String,
        step: &'static str,
        error: ServiceError,
    },
}

impl Classified for IntakeError {
    fn class(&self) -> ErrorClass {
        match self {
            Self::NotStored(e) | Self::Incomplete { error: e, .. } => e.class,
        }
    }
}

/// What intake did; the callback entry's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntakeOutcome {
    pub request_id: String,
    pub status: &'static str,
    /// An email went out in this call.
    pub emailed: bool,
    /// The token was stored before (a retried invocation).
    pub duplicate: bool,
}

/// Where the client came from, for the audit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The POSTed form.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct DecisionForm {
    pub decision: Option<String>,
    #[serde(default)]
    pub comment: String,
    pub code: Option<String>,
}

/// What the pending page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Choose,
    /// A POST without Approve or Reject.
    MissingChoice,
    /// A code was sent to the approver; enter it.
    CodeSent,
    WrongCode,
    Locked,
}

/// What a GET or POST leads to; `http.rs` renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Unknown id or a signature that does not match: a refusal that says nothing more.
    Invalid,
    Open {
        request: Box<ApprovalRequest>,
        prompt: Prompt,
        verdict: Option<Verdict>,
        comment: String,
    },
    /// Decided and delivered; `just_now` when this POST made the decision.
    Done {
        request: Box<ApprovalRequest>,
        just_now: bool,
    },
    /// Decided, not delivered yet: try again (a retry resends the recorded decision).
    Recorded {
        request: Box<ApprovalRequest>,
    },
    Expired {
        request: Box<ApprovalRequest>,
    },
    Refused {
        request: Box<ApprovalRequest>,
    },
    /// The store could not be read or written.
    Unavailable,
}

/// The result of delivering a recorded decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered(ApprovalRequest),
    Expired(ApprovalRequest),
    /// Not delivered now; the decision stays recorded for a retry or the sweep.
    NotYet(ApprovalRequest, ServiceError),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub examined: usize,
    pub expired: usize,
    pub emailed: usize,
    pub reminded: usize,
    pub delivered: usize,
    pub refusals_delivered: usize,
    /// Steps that failed and are tried again next sweep.
    pub failed: usize,
    pub stopped_at_deadline: bool,
}

/// The service over its ports.
pub struct Approvals<S, T, M, U> {
    pub store: S,
    pub tasks: T,
    pub mailer: M,
    pub step_up: U,
    pub key: SigningKey,
    pub policy: ApproverPolicy,
    pub settings: Settings,
    pub env: Env,
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn string_field<'a>(input: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    input
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Whether the execution shows that this request's decision reached it.
pub fn execution_shows_decision(execution: &Execution, request: &ApprovalRequest) -> bool {
    let Some(decision) = &request.decision else {
        return false;
    };
    match decision.verdict {
        Verdict::Approve => {
            execution.status == ExecutionStatus::Succeeded
                && execution
                    .output
                    .as_deref()
                    .and_then(|o| serde_json::from_str::<Value>(o).ok())
                    .is_some_and(|o| {
                        o.get("requestId").and_then(Value::as_str) == Some(request.id.as_str())
                    })
        }
        Verdict::Reject => {
            execution.status == ExecutionStatus::Failed
                && execution.error.as_deref() == Some(REJECTED_ERROR)
        }
    }
}

impl<S, T, M, U> Approvals<S, T, M, U>
where
    S: ApprovalStore,
    T: TaskCallbacks,
    M: Mailer,
    U: StepUp,
{
    fn now(&self) -> DateTime<Utc> {
        self.env.clock.now()
    }

    /// The request for a task, before it is stored: who approves (or why nobody may), expiry.
    pub fn new_request(
        &self,
        id: String,
        task: &IncomingTask,
        now: DateTime<Utc>,
    ) -> ApprovalRequest {
        let empty = Map::new();
        let input = task.input.as_object().unwrap_or(&empty);
        let workflow = clean_line(
            task.workflow
                .as_deref()
                .or_else(|| string_field(input, "workflow"))
                .unwrap_or(&self.settings.default_workflow),
            64,
        );
        let named =
            string_field(input, "managerEmailAddress").or_else(|| string_field(input, "approver"));
        let requester_raw = string_field(input, "requestedBy");
        let requester =
            requester_raw.map(|r| normalize_address(r).unwrap_or_else(|| clean_line(r, 120)));
        let timeout = task
            .timeout_seconds
            .or_else(|| input.get("timeoutSeconds").and_then(Value::as_u64))
            .map(|s| Duration::seconds(s.clamp(60, 366 * 86_400) as i64))
            .unwrap_or(self.settings.default_timeout);
        let expires_at = now + timeout;
        let subject = clean_line(
            &match string_field(input, "subject") {
                Some(s) => s.to_owned(),
                // The seed's promotion input and its subject.
                None if input.contains_key("employeeName") => {
                    "Your Approval Needed for Promotion!".to_owned()
                }
                None => format!("Your approval is needed: {workflow}"),
            },
            crate::email::MAX_SUBJECT_CHARS,
        );
        let details = input
            .iter()
            .filter(|(k, _)| !ENVELOPE_FIELDS.contains(&k.as_str()))
            .take(20)
            .map(|(k, v)| (clean_line(k, 60), text_of(v).chars().take(500).collect()))
            .collect();
        let (approver, status, note) = if task.input.is_object() {
            match self.policy.choose(&workflow, named, requester.as_deref()) {
                Ok(approver) => (approver, Status::Pending, None),
                Err(refusal) => (
                    named.and_then(normalize_address).unwrap_or_default(),
                    Status::Refused,
                    Some(refusal.to_string()),
                ),
            }
        } else {
            (
                String::new(),
                Status::Refused,
                Some("the task input must be a JSON object".to_owned()),
            )
        };
        ApprovalRequest {
            id,
            pattern: task.pattern,
            task_token: task.token.clone(),
            workflow,
            approver,
            requester,
            subject,
            details,
            execution_arn: task
                .execution_arn
                .clone()
                .or_else(|| string_field(input, "executionArn").map(str::to_owned)),
            created_at: now,
            expires_at,
            remind_at: self.settings.reminders.then(|| now + timeout / 2),
            status,
            email_sent_at: None,
            reminder_sent_at: None,
            decision: None,
            delivered_at: None,
            note,
        }
    }

    /// Stores the token under a new random id before anything else is done with it, then emails
    /// the approver (or fails the task when nobody may approve). A retried callback invocation
    /// finds its request by token and sends no second email.
    pub async fn intake(&self, task: IncomingTask) -> Result<IntakeOutcome, IntakeError> {
        let now = self.now();
        let id = self.env.ids.next_id().map_err(IntakeError::NotStored)?;
        let request = self.new_request(id, &task, now);
        let (request, duplicate) = match self.store.create(&request).await {
            Ok(Created::New) => (request, false),
            Ok(Created::Existing(existing)) => (*existing, true),
            Err(e) => return Err(IntakeError::NotStored(e)),
        };
        tracing::info!(
            request_id = %request.id,
            workflow = %request.workflow,
            pattern = request.pattern.as_str(),
            status = request.status.as_str(),
            duplicate,
            "task stored"
        );
        let (request, emailed) = self.complete_intake(request).await?;
        Ok(IntakeOutcome {
            request_id: request.id,
            status: request.status.as_str(),
            emailed,
            duplicate,
        })
    }

    /// Emails a pending request not yet emailed; fails the task of a refused one not yet told.
    async fn complete_intake(
        &self,
        mut request: ApprovalRequest,
    ) -> Result<(ApprovalRequest, bool), IntakeError> {
        let mut emailed = false;
        if request.status == Status::Pending && request.email_sent_at.is_none() {
            match self.send_email(&request, false).await {
                Ok(()) => {
                    emailed = true;
                    let change = Change::EmailSent { at: self.now() };
                    self.store
                        .update(&request.id, Status::Pending, &change)
                        .await
                        .map_err(|error| IntakeError::Incomplete {
                            id: request.id.clone(),
                            step: "recording the email",
                            error,
                        })?;
                    change.apply(&mut request);
                    tracing::info!(request_id = %request.id, "approval email sent");
                }
                Err(error) if error.class.is_retryable() => {
                    return Err(IntakeError::Incomplete {
                        id: request.id.clone(),
                        step: "sending the email",
                        error,
                    })
                }
                Err(error) => {
                    // SES will not take it (an unverified address in the sandbox, a rejected
                    // message): fail the task now rather than let it wait for its timeout.
                    let change = Change::Refuse {
                        reason: format!("the approval email could not be sent: {error}"),
                    };
                    let refused = self
                        .store
                        .update(&request.id, Status::Pending, &change)
                        .await
                        .map_err(|error| IntakeError::Incomplete {
                            id: request.id.clone(),
                            step: "recording the refusal",
                            error,
                        })?;
                    if refused {
                        change.apply(&mut request);
                    }
                    tracing::warn!(request_id = %request.id, error = %error, "approval email refused by the mail service");
                }
            }
        }
        if request.status == Status::Refused && request.delivered_at.is_none() {
            self.deliver_refusal(&mut request).await?;
        }
        Ok((request, emailed))
    }

    fn link_for(&self, request: &ApprovalRequest) -> Result<String, ServiceError> {
        let base = self.settings.base_url.as_deref().ok_or_else(|| {
            ServiceError::new(
                "links",
                ErrorClass::InvalidConfig,
                "PUBLIC_BASE_URL is not set",
            )
        })?;
        let sig = self
            .key
            .sign(&request.id, &request.approver, request.expires_at);
        Ok(link(base, &request.id, &sig))
    }

    async fn send_email(
        &self,
        request: &ApprovalRequest,
        reminder: bool,
    ) -> Result<(), ServiceError> {
        let link = self.link_for(request)?;
        let email = approval_email(request, &link, &self.settings.sender, reminder);
        self.mailer.send(&email).await
    }

    /// `SendTaskFailure(ApprovalRefused)` for a request refused at intake.
    async fn deliver_refusal(&self, request: &mut ApprovalRequest) -> Result<(), IntakeError> {
        let cause = request.note.clone().unwrap_or_default();
        match self
            .tasks
            .send_failure(&request.task_token, REFUSED_ERROR, &cause)
            .await
        {
            Ok(()) | Err(SendError::Gone(_)) => {
                let change = Change::Delivered { at: self.now() };
                self.store
                    .update(&request.id, Status::Refused, &change)
                    .await
                    .map_err(|error| IntakeError::Incomplete {
                        id: request.id.clone(),
                        step: "recording the refusal's delivery",
                        error,
                    })?;
                change.apply(request);
                tracing::info!(request_id = %request.id, reason = %cause, "request refused; task failed with ApprovalRefused");
                Ok(())
            }
            Err(SendError::Service(error)) => Err(IntakeError::Incomplete {
                id: request.id.clone(),
                step: "failing the refused task",
                error,
            }),
        }
    }

    /// The request behind a link, or the view that refuses it.
    async fn load_verified(&self, id: &str, sig: &str) -> Result<ApprovalRequest, View> {
        let plausible = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !plausible || sig.len() != 64 {
            return Err(View::Invalid);
        }
        match self.store.get(id).await {
            Ok(Some(request))
                if self
                    .key
                    .verify(&request.id, &request.approver, request.expires_at, sig) =>
            {
                Ok(request)
            }
            Ok(_) => {
                tracing::warn!(request_id = %id, "refused a link: unknown id or bad signature");
                Err(View::Invalid)
            }
            Err(error) => {
                tracing::error!(request_id = %id, error = %error, "reading the request failed");
                Err(View::Unavailable)
            }
        }
    }

    fn show(&self, request: ApprovalRequest) -> View {
        let request = Box::new(request);
        match request.status {
            Status::Pending if self.now() >= request.expires_at => View::Expired { request },
            Status::Pending => View::Open {
                request,
                prompt: Prompt::Choose,
                verdict: None,
                comment: String::new(),
            },
            Status::Decided => View::Recorded { request },
            Status::Delivered => View::Done {
                request,
                just_now: false,
            },
            Status::Expired => View::Expired { request },
            Status::Refused => View::Refused { request },
        }
    }

    /// GET and HEAD: shows the request; never changes anything.
    pub async fn view(&self, id: &str, sig: &str) -> View {
        match self.load_verified(id, sig).await {
            Ok(request) => self.show(request),
            Err(view) => view,
        }
    }

    /// POST: decides once (pending → decided by a conditional write), then delivers. A request
    /// already decided but not delivered is delivered again with its recorded decision, whatever
    /// this POST asked for.
    pub async fn decide(&self, id: &str, sig: &str, form: DecisionForm, client: Client) -> View {
        let request = match self.load_verified(id, sig).await {
            Ok(request) => request,
            Err(view) => return view,
        };
        match request.status {
            Status::Pending => self.decide_pending(request, form, client).await,
            Status::Decided => self.finish(request, false).await,
            _ => self.show(request),
        }
    }

    async fn decide_pending(
        &self,
        mut request: ApprovalRequest,
        form: DecisionForm,
        client: Client,
    ) -> View {
        let now = self.now();
        if now >= request.expires_at {
            let change = Change::Expire {
                reason: "no decision before the task's timeout".to_owned(),
            };
            if let Ok(true) = self
                .store
                .update(&request.id, Status::Pending, &change)
                .await
            {
                change.apply(&mut request);
            }
            return View::Expired {
                request: Box::new(request),
            };
        }
        if request.requester.as_deref() == Some(request.approver.as_str()) {
            return View::Invalid;
        }
        let comment: String = form
            .comment
            .trim()
            .chars()
            .take(MAX_COMMENT_CHARS)
            .collect();
        let Some(verdict) = form.decision.as_deref().and_then(Verdict::parse) else {
            return View::Open {
                request: Box::new(request),
                prompt: Prompt::MissingChoice,
                verdict: None,
                comment,
            };
        };
        if self.settings.require_step_up {
            if let Some(prompt) = self.step_up(&request, form.code.as_deref()).await {
                return match prompt {
                    Err(view) => view,
                    Ok(prompt) => View::Open {
                        request: Box::new(request),
                        prompt,
                        verdict: Some(verdict),
                        comment,
                    },
                };
            }
        }
        let decision = Decision {
            verdict,
            by: request.approver.clone(),
            at: now,
            comment,
            source_ip: client.ip.map(|ip| clean_line(&ip, 64)),
            user_agent: client.user_agent.map(|ua| clean_line(&ua, 256)),
        };
        let change = Change::Decide(decision);
        match self
            .store
            .update(&request.id, Status::Pending, &change)
            .await
        {
            Ok(true) => {
                change.apply(&mut request);
                tracing::info!(request_id = %request.id, decision = verdict.as_str(), approver = %request.approver, "decision recorded");
                self.finish(request, true).await
            }
            // Another POST won the conditional write: show (and deliver) what it recorded.
            Ok(false) => match self.store.get(&request.id).await {
                Ok(Some(current)) if current.status == Status::Decided => {
                    self.finish(current, false).await
                }
                Ok(Some(current)) => self.show(current),
                Ok(None) => View::Invalid,
                Err(_) => View::Unavailable,
            },
            Err(error) => {
                tracing::error!(request_id = %request.id, error = %error, "recording the decision failed");
                View::Unavailable
            }
        }
    }

    /// `None`: the step-up is satisfied. Otherwise what to ask (or the view to show).
    async fn step_up(
        &self,
        request: &ApprovalRequest,
        code: Option<&str>,
    ) -> Option<Result<Prompt, View>> {
        let purpose = format!("approval:{}", request.id);
        match code.map(str::trim).filter(|c| !c.is_empty()) {
            None => match self.step_up.send_code(&request.approver, &purpose).await {
                Ok(CodeSent::Sent | CodeSent::TooSoon) => Some(Ok(Prompt::CodeSent)),
                Err(error) => {
                    tracing::error!(request_id = %request.id, error = %error, "sending the step-up code failed");
                    Some(Err(View::Unavailable))
                }
            },
            Some(code) => match self.step_up.verify(&request.approver, &purpose, code).await {
                Ok(CodeCheck::Valid) => None,
                Ok(CodeCheck::Invalid) => Some(Ok(Prompt::WrongCode)),
                Ok(CodeCheck::Locked) => Some(Ok(Prompt::Locked)),
                Err(error) => {
                    tracing::error!(request_id = %request.id, error = %error, "checking the step-up code failed");
                    Some(Err(View::Unavailable))
                }
            },
        }
    }

    async fn finish(&self, request: ApprovalRequest, just_now: bool) -> View {
        match self.deliver(request).await {
            Delivery::Delivered(request) => View::Done {
                request: Box::new(request),
                just_now,
            },
            Delivery::Expired(request) => View::Expired {
                request: Box::new(request),
            },
            Delivery::NotYet(request, _) => View::Recorded {
                request: Box::new(request),
            },
        }
    }

    /// Sends the recorded decision: `SendTaskSuccess` with the audit output, or
    /// `SendTaskFailure(Rejected)`. When the task is gone, the execution is asked first, so a
    /// decision that went through (an earlier, uncertain send) is never shown as expired.
    pub async fn deliver(&self, mut request: ApprovalRequest) -> Delivery {
        let Some(decision) = request.decision.clone() else {
            let error = ServiceError::new(
                "approvals",
                ErrorClass::CorruptState,
                "a decided request without a decision",
            );
            return Delivery::NotYet(request, error);
        };
        let sent = match decision.verdict {
            Verdict::Approve => {
                let output = request.audit_output().unwrap_or_default().to_string();
                self.tasks.send_success(&request.task_token, &output).await
            }
            Verdict::Reject => {
                let cause = request.rejection_cause().unwrap_or_default();
                self.tasks
                    .send_failure(&request.task_token, REJECTED_ERROR, &cause)
                    .await
            }
        };
        match sent {
            Ok(()) => self.mark_delivered(request).await,
            Err(SendError::Gone(gone)) => {
                let execution = match &request.execution_arn {
                    Some(arn) => match self.tasks.describe_execution(arn).await {
                        Ok(execution) => Some(execution),
                        Err(error) => {
                            tracing::warn!(request_id = %request.id, error = %error, "task gone; the execution could not be read");
                            return Delivery::NotYet(request, error);
                        }
                    },
                    None => None,
                };
                if execution
                    .as_ref()
                    .is_some_and(|e| execution_shows_decision(e, &request))
                {
                    tracing::info!(request_id = %request.id, "task gone, the execution shows the decision: delivered earlier");
                    return self.mark_delivered(request).await;
                }
                let change = Change::Expire {
                    reason: format!(
                        "{}: the decision could not reach the workflow{}",
                        gone.as_str(),
                        execution
                            .map(|e| format!(" (execution {:?})", e.status))
                            .unwrap_or_default()
                    ),
                };
                match self
                    .store
                    .update(&request.id, Status::Decided, &change)
                    .await
                {
                    Ok(_) => change.apply(&mut request),
                    Err(error) => {
                        tracing::error!(request_id = %request.id, error = %error, "recording the expiry failed")
                    }
                }
                tracing::info!(request_id = %request.id, gone = gone.as_str(), "decision too late: request expired");
                Delivery::Expired(request)
            }
            Err(SendError::Service(error)) => {
                tracing::warn!(request_id = %request.id, error = %error, class = %error.class, "delivering the decision failed; it stays recorded");
                Delivery::NotYet(request, error)
            }
        }
    }

    async fn mark_delivered(&self, mut request: ApprovalRequest) -> Delivery {
        let change = Change::Delivered { at: self.now() };
        match self
            .store
            .update(&request.id, Status::Decided, &change)
            .await
        {
            Ok(_) => {}
            // Step Functions has the decision; a later retry finds the task gone and the
            // execution showing it, and records the delivery then.
            Err(error) => {
                tracing::error!(request_id = %request.id, error = %error, "recording the delivery failed")
            }
        }
        change.apply(&mut request);
        tracing::info!(request_id = %request.id, "decision delivered");
        Delivery::Delivered(request)
    }

    /// Expires what timed out, emails what was never emailed, reminds once at half-time, delivers
    /// recorded decisions and refusals that did not get through. Stops at `deadline`.
    pub async fn sweep(
        &self,
        deadline: Option<DateTime<Utc>>,
    ) -> Result<SweepReport, ServiceError> {
        let mut report = SweepReport::default();
        let requests = self
            .store
            .list(&[Status::Pending, Status::Decided, Status::Refused])
            .await?;
        for mut request in requests {
            let now = self.now();
            if deadline.is_some_and(|d| now >= d) {
                report.stopped_at_deadline = true;
                break;
            }
            report.examined += 1;
            match request.status {
                Status::Pending if now >= request.expires_at => {
                    let change = Change::Expire {
                        reason: "no decision before the task's timeout".to_owned(),
                    };
                    match self
                        .store
                        .update(&request.id, Status::Pending, &change)
                        .await
                    {
                        Ok(true) => {
                            report.expired += 1;
                            tracing::info!(request_id = %request.id, "request expired");
                        }
                        Ok(false) => {}
                        Err(_) => report.failed += 1,
                    }
                }
                Status::Pending if request.email_sent_at.is_none() => {
                    match self.complete_intake(request).await {
                        Ok((_, true)) => report.emailed += 1,
                        Ok((_, false)) => {}
                        Err(error) => {
                            tracing::warn!(error = %error, "finishing an intake failed");
                            report.failed += 1;
                        }
                    }
                }
                Status::Pending
                    if self.settings.reminders
                        && request.reminder_sent_at.is_none()
                        && request.remind_at.is_some_and(|at| now >= at) =>
                {
                    match self.remind(&request, now).await {
                        Ok(true) => report.reminded += 1,
                        Ok(false) => {}
                        Err(_) => report.failed += 1,
                    }
                }
                Status::Decided => match self.deliver(request).await {
                    Delivery::Delivered(_) => report.delivered += 1,
                    Delivery::Expired(_) => report.expired += 1,
                    Delivery::NotYet(..) => report.failed += 1,
                },
                Status::Refused if request.delivered_at.is_none() => {
                    match self.deliver_refusal(&mut request).await {
                        Ok(()) => report.refusals_delivered += 1,
                        Err(_) => report.failed += 1,
                    }
                }
                _ => {}
            }
        }
        tracing::info!(?report, "sweep done");
        Ok(report)
    }

    /// One reminder: claimed by a conditional write first (two sweeps never both send), given
    /// back when it could not be sent.
    async fn remind(
        &self,
        request: &ApprovalRequest,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        let claim = Change::ReminderClaimed { at: now };
        if !self
            .store
            .update(&request.id, Status::Pending, &claim)
            .await?
        {
            return Ok(false);
        }
        match self.send_email(request, true).await {
            Ok(()) => {
                tracing::info!(request_id = %request.id, "reminder sent");
                Ok(true)
            }
            Err(error) => {
                tracing::warn!(request_id = %request.id, error = %error, "reminder failed; tried again next sweep");
                self.store
                    .update(&request.id, Status::Pending, &Change::ReminderReleased)
                    .await?;
                Err(error)
            }
        }
    }
}

/// The audit output's timestamp form, for tests and the CLI.
pub fn decided_at(request: &ApprovalRequest) -> Option<String> {
    request.decision.as_ref().map(|d| rfc3339(d.at))
}
