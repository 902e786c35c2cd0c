//! The one approval model behind both patterns (activity tokens and callback tokens): a request,
//! its states and the changes the store applies to it.
//!
//! ```text
//! pending ──POST (conditional)──▶ decided ──SendTask* ok──▶ delivered
//!    │                               │
//!    ├──timeout (sweep / POST)──▶ expired ◀──task gone and the execution shows no decision
//!    │
//! refused (at intake: approver not allowed, email rejected) ──SendTaskFailure──▶ (delivered_at set)
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// Where the task token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// `GetActivityTask` on the seed's activity (the poller).
    Activity,
    /// `lambda:invoke.waitForTaskToken` (the callback entry).
    Callback,
}

impl Pattern {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Activity => "activity",
            Self::Callback => "callback",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Activity, Self::Callback]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Emailed (or about to be); waiting for the approver.
    Pending,
    /// A decision is recorded; Step Functions has not (knowingly) received it yet.
    Decided,
    /// Step Functions accepted the decision.
    Delivered,
    /// The task ended without a decision reaching it.
    Expired,
    /// Refused at intake (approver not allowed, the email could not be sent): the task is failed.
    Refused,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Self::Pending,
        Self::Decided,
        Self::Delivered,
        Self::Expired,
        Self::Refused,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Decided => "decided",
            Self::Delivered => "delivered",
            Self::Expired => "expired",
            Self::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }

    pub const fn past(self) -> &'static str {
        match self {
            Self::Approve => "approved",
            Self::Reject => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Approve, Self::Reject]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A decision and its audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// The approver the link was for (the only one who can decide).
    pub by: String,
    pub at: DateTime<Utc>,
    pub comment: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The step's error when the approver rejects; the state machines `Catch` it.
pub const REJECTED_ERROR: &str = "Rejected";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// Random, ≥ 128 bits (32 hex characters); the only thing links carry besides the signature.
    pub id: String,
    pub pattern: Pattern,
    /// Never logged, never shown, never in a link.
    pub task_token: String,
    pub workflow: String,
    /// Normalised (trimmed, lower case) address the link is for.
    pub approver: String,
    pub requester: Option<String>,
    pub subject: String,
    /// What the page and the email show: the input's fields as text, in input order.
    pub details: Vec<(String, String)>,
    /// `$$.Execution.Id`, for `DescribeExecution` before anything is called expired.
    pub execution_arn: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Half-way to the expiry; `None` when reminders are off.
    pub remind_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub email_sent_at: Option<DateTime<Utc>>,
    pub reminder_sent_at: Option<DateTime<Utc>>,
    pub decision: Option<Decision>,
    /// When Step Functions accepted the decision (or the refusal).
    pub delivered_at: Option<DateTime<Utc>>,
    /// Why the request was refused or expired.
    pub note: Option<String>,
}

impl ApprovalRequest {
    /// The step's output on approval: `{"decision","approver","decidedAt","comment","requestId"}`.
    pub fn audit_output(&self) -> Option<Value> {
        self.decision.as_ref().map(|d| {
            json!({
                "decision": d.verdict.past(),
                "approver": d.by,
                "decidedAt": rfc3339(d.at),
                "comment": d.comment,
                "requestId": self.id,
            })
        })
    }

    /// The cause sent with `SendTaskFailure(Rejected)`.
    pub fn rejection_cause(&self) -> Option<String> {
        self.audit_output().map(|v| v.to_string())
    }
}

/// One conditional change: the store applies it only while the request is in the expected state
/// (see [`crate::ports::ApprovalStore::update`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    EmailSent {
        at: DateTime<Utc>,
    },
    /// Also requires that no reminder was claimed yet: one reminder, whoever sweeps.
    ReminderClaimed {
        at: DateTime<Utc>,
    },
    /// Gives a claim back after the reminder could not be sent.
    ReminderReleased,
    /// pending → decided.
    Decide(Decision),
    /// Also requires that it was not delivered yet.
    Delivered {
        at: DateTime<Utc>,
    },
    /// pending | decided → expired.
    Expire {
        reason: String,
    },
    /// pending → refused (the email could not be sent).
    Refuse {
        reason: String,
    },
}

impl Change {
    /// The status after the change.
    pub fn next_status(&self, current: Status) -> Status {
        match self {
            Self::Decide(_) => Status::Decided,
            Self::Delivered { .. } if current == Status::Decided => Status::Delivered,
            Self::Expire { .. } => Status::Expired,
            Self::Refuse { .. } => Status::Refused,
            _ => current,
        }
    }

    /// Whether the change applies to `request` expected in `expected` (the store's condition).
    pub fn allowed(&self, request: &ApprovalRequest, expected: Status) -> bool {
        request.status == expected
            && match self {
                Self::ReminderClaimed { .. } => request.reminder_sent_at.is_none(),
                Self::Delivered { .. } => request.delivered_at.is_none(),
                _ => true,
            }
    }

    /// Applies the change (the in-memory store and tests; the DynamoDB store writes the same).
    pub fn apply(&self, request: &mut ApprovalRequest) {
        request.status = self.next_status(request.status);
        match self {
            Self::EmailSent { at } => request.email_sent_at = Some(*at),
            Self::ReminderClaimed { at } => request.reminder_sent_at = Some(*at),
            Self::ReminderReleased => request.reminder_sent_at = None,
            Self::Decide(decision) => request.decision = Some(decision.clone()),
            Self::Delivered { at } => request.delivered_at = Some(*at),
            Self::Expire { reason } | Self::Refuse { reason } => {
                request.note = Some(reason.clone())
            }
        }
    }
}

/// RFC 3339 in UTC with seconds, as stored and shown in outputs.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// For people: `2026-11-23 08:00 UTC`.
pub fn human_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `1 h 5 min`, `3 min`, `2 d 4 h`: for ages and time left.
pub fn human_duration(d: chrono::Duration) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, _) => format!("{hours} h {mins} min"),
        _ => format!("{days} d {hours} h"),
    }
}
