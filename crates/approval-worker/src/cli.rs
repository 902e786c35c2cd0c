//! `fleet approvals list` and `fleet approvals show ID`: typed arguments in, the text to print
//! out. The task token is never printed (only its length and a fingerprint).

use chrono::{DateTime, Utc};
use fleet_core::ServiceError;
use sha2::{Digest, Sha256};

use crate::model::{human_duration, rfc3339, ApprovalRequest, Status};
use crate::ports::ApprovalStore;

/// The store the CLI reads (the deployed table).
pub fn store(sdk: &aws_config::SdkConfig, table: &str) -> crate::aws::DynamoStore {
    crate::aws::DynamoStore::new(sdk, table, chrono::Duration::days(90))
}

/// Pending requests, oldest first, with their age and the time left.
pub fn list_text(requests: &[ApprovalRequest], now: DateTime<Utc>) -> String {
    let pending: Vec<&ApprovalRequest> = requests
        .iter()
        .filter(|r| r.status == Status::Pending)
        .collect();
    if pending.is_empty() {
        return "No pending approvals.\n".to_owned();
    }
    let mut out = format!(
        "{:<34} {:<14} {:<32} {:>12} {:>14}\n",
        "ID", "WORKFLOW", "APPROVER", "AGE", "EXPIRES IN"
    );
    for r in pending {
        let left = if now >= r.expires_at {
            "expired".to_owned()
        } else {
            human_duration(r.expires_at - now)
        };
        out.push_str(&format!(
            "{:<34} {:<14} {:<32} {:>12} {:>14}\n",
            r.id,
            r.workflow,
            r.approver,
            human_duration(now - r.created_at),
            left
        ));
    }
    out
}

/// Everything about one request but its token.
pub fn show_text(request: &ApprovalRequest, now: DateTime<Utc>) -> String {
    let mut lines = vec![
        format!("Request:      {}", request.id),
        format!("Status:       {}", request.status.as_str()),
        format!(
            "Workflow:     {} ({} pattern)",
            request.workflow,
            request.pattern.as_str()
        ),
        format!("Subject:      {}", request.subject),
        format!("Approver:     {}", request.approver),
    ];
    if let Some(r) = &request.requester {
        lines.push(format!("Requested by: {r}"));
    }
    for (k, v) in &request.details {
        lines.push(format!("  {k}: {v}"));
    }
    lines.push(format!(
        "Created:      {} ({} ago)",
        rfc3339(request.created_at),
        human_duration(now - request.created_at)
    ));
    lines.push(format!("Expires:      {}", rfc3339(request.expires_at)));
    if let Some(arn) = &request.execution_arn {
        lines.push(format!("Execution:    {arn}"));
    }
    let when =
        |label: &str, at: Option<DateTime<Utc>>| at.map(|t| format!("{label}{}", rfc3339(t)));
    lines.extend(when("Emailed:      ", request.email_sent_at));
    lines.extend(when("Reminded:     ", request.reminder_sent_at));
    if let Some(d) = &request.decision {
        lines.push(format!(
            "Decision:     {} by {} at {}",
            d.verdict.past(),
            d.by,
            rfc3339(d.at)
        ));
        if !d.comment.is_empty() {
            lines.push(format!("Comment:      {}", d.comment));
        }
        lines.push(format!(
            "From:         {} ({})",
            d.source_ip.as_deref().unwrap_or("unknown address"),
            d.user_agent.as_deref().unwrap_or("unknown agent")
        ));
    }
    lines.extend(when("Delivered:    ", request.delivered_at));
    if let Some(note) = &request.note {
        lines.push(format!("Note:         {note}"));
    }
    let fingerprint = hex::encode(&Sha256::digest(request.task_token.as_bytes())[..6]);
    lines.push(format!(
        "Task token:   {} characters, sha256 {fingerprint}… (never shown)",
        request.task_token.chars().count()
    ));
    lines.join("\n") + "\n"
}

/// `fleet approvals list`.
pub async fn list<S: ApprovalStore>(store: &S, now: DateTime<Utc>) -> Result<String, ServiceError> {
    let requests = store.list(&[Status::Pending]).await?;
    Ok(list_text(&requests, now))
}

/// `fleet approvals show ID`.
pub async fn show<S: ApprovalStore>(
    store: &S,
    id: &str,
    now: DateTime<Utc>,
) -> Result<String, ServiceError> {
    Ok(match store.get(id).await? {
        Some(request) => show_text(&request, now),
        None => format!("No approval request {id}.\n"),
    })
}
