//! `fleet calls list [--sentiment NEGATIVE]` and `fleet calls show ID`: the logic, over the calls
//! port; `fleet-cli` parses the arguments, builds `DynamoCalls` and prints the text.

use fleet_core::ServiceError;
use serde_json::Value;

use crate::call::{CallRecord, Status};
use crate::ports::Calls;
use crate::sentiment::Label;

/// Why a command cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Service(#[from] ServiceError),
    #[error("no call {0}")]
    NoSuchCall(String),
    #[error("unknown sentiment {0:?}: expected POSITIVE, NEGATIVE, NEUTRAL or MIXED")]
    BadSentiment(String),
}

/// `--sentiment` as given on the command line (any case).
pub fn parse_sentiment(s: &str) -> Result<Label, CliError> {
    Label::parse(s).ok_or_else(|| CliError::BadSentiment(s.to_owned()))
}

/// The newest `limit` calls (every status), or only DONE calls with `sentiment`.
pub async fn list<C: Calls>(
    calls: &C,
    sentiment: Option<Label>,
    limit: usize,
) -> Result<String, CliError> {
    let statuses: &[Status] = if sentiment.is_some() {
        &[Status::Done]
    } else {
        &Status::ALL
    };
    let mut rows: Vec<CallRecord> = Vec::new();
    for status in statuses {
        // The index is read oldest first; a call-center table is read in full per status here,
        // which suits an operator's look, not a report over years of calls.
        rows.extend(calls.by_status(*status, usize::MAX).await?);
    }
    rows.retain(|c| sentiment.is_none() || c.sentiment == sentiment);
    rows.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    rows.truncate(limit);
    if rows.is_empty() {
        return Ok("no calls\n".to_owned());
    }
    let mut out = format!(
        "{:<20}  {:<12}  {:<9}  {:>5}  {:<40}  {}\n",
        "CREATED", "STATUS", "SENTIMENT", "NEG", "KEY", "CALL"
    );
    for c in rows {
        out.push_str(&format!(
            "{:<20}  {:<12}  {:<9}  {:>5}  {:<40}  {}\n",
            c.created_at,
            c.status.map_or("?", Status::as_str),
            c.sentiment.map_or("-", Label::as_str),
            c.negative.map_or("-".to_owned(), |n| format!("{n:.2}")),
            c.key,
            c.call_id
        ));
    }
    Ok(out)
}

fn scores(v: &Value) -> String {
    let f = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or_default();
    format!(
        "positive {:.2}  negative {:.2}  neutral {:.2}  mixed {:.2}",
        f("Positive"),
        f("Negative"),
        f("Neutral"),
        f("Mixed")
    )
}

/// Everything stored about one call.
pub async fn show<C: Calls>(calls: &C, call_id: &str) -> Result<String, CliError> {
    let c = calls
        .get(call_id)
        .await?
        .ok_or_else(|| CliError::NoSuchCall(call_id.to_owned()))?;
    let d = &c.details;
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("{label:<13} {value}\n"));
    line("Call", c.call_id.clone());
    line("Recording", format!("s3://{}/{}", c.bucket, c.key));
    line("Status", c.status.map_or("?", Status::as_str).to_owned());
    if let Some(reason) = &c.reason {
        line("Reason", reason.clone());
    }
    line("Job", format!("{} (attempt {})", c.job_name, c.attempt));
    line("Created", c.created_at.clone());
    line("Updated", c.updated_at.clone());
    if let Some(language) = text("Language").or(c.language.clone()) {
        let translated =
            text("TranslatedFrom").map_or(String::new(), |f| format!(", translated from {f}"));
        line("Language", format!("{language}{translated}"));
    }
    if let Some(redacted) = d.get("Redacted").and_then(Value::as_bool) {
        line(
            "PII redacted",
            if redacted { "yes" } else { "no" }.to_owned(),
        );
    }
    if let Some(s) = c.sentiment {
        line(
            "Sentiment",
            format!("{}  ({})", s.as_str(), scores(&d["Scores"])),
        );
    }
    if let Some(speakers) = d.get("Speakers").and_then(Value::as_object) {
        for (name, v) in speakers {
            let label = v.get("Sentiment").and_then(Value::as_str).unwrap_or("?");
            line(&format!("  {name}"), format!("{label}  ({})", scores(v)));
        }
    }
    if let Some(trend) = d.get("Trend") {
        line(
            "Trend",
            format!(
                "{}: first third negative {:.2}, last third negative {:.2}",
                trend
                    .get("Direction")
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
                trend["FirstThird"]["Negative"].as_f64().unwrap_or_default(),
                trend["LastThird"]["Negative"].as_f64().unwrap_or_default()
            ),
        );
    }
    if let Some(seconds) = d.get("DurationSeconds").and_then(Value::as_f64) {
        let words = d
            .get("WordCount")
            .and_then(Value::as_u64)
            .unwrap_or_default();
        line("Duration", format!("{seconds:.0} s, {words} words"));
    }
    if let Some(key) = text("TranscriptKey") {
        line("Transcript", format!("s3://{}/{key}", c.bucket));
    }
    if let Some(reason) = &c.announce_reason {
        let when = c
            .announced_at
            .clone()
            .unwrap_or_else(|| "not yet (due)".into());
        line("Announced", format!("{when}: {reason}"));
    }
    if let Some(excerpt) = text("Excerpt") {
        line("Excerpt", excerpt);
    }
    Ok(out)
}
