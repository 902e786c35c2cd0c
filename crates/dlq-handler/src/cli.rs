//! `fleet dlq …`: the logic behind the subcommands, as functions that take typed arguments and
//! return the text to print (the `fleet` binary wires them to clap and stdin).
//!
//! - `fleet dlq list [--function F] [--class C] [--since T] [--status S]`
//! - `fleet dlq show ID`
//! - `fleet dlq replay ID | --function F --class C [--since T] [--dry-run] [--rate N/s] [--force] [--yes]`
//! - `fleet dlq resolve ID`

use aws_config::SdkConfig;
use chrono::{DateTime, SecondsFormat, Utc};
use fleet_core::{Clock, ServiceError};
use serde_json::Value;
use std::fmt::Write as _;

use crate::aws::{s3_client, DynamoArchive, LambdaInvoker, S3Spill};
use crate::classify::FailureClass;
use crate::model::{Filter, Status, StoredEvent};
use crate::ports::{Archive, EventSpill, Invoker, Pause};
use crate::replay::{self, event_of, Planned, Rate, ReplayError, Selection, Since};

/// The AWS adapters `fleet dlq` uses.
pub struct Adapters {
    pub archive: DynamoArchive,
    /// Reads spilled events from the bucket each item names.
    pub spill: S3Spill,
    pub invoker: LambdaInvoker,
}

/// Adapters for the archive table `table` (the stack's `DlqArchiveTableName` output).
pub fn adapters(sdk: &SdkConfig, table: &str) -> Adapters {
    Adapters {
        archive: DynamoArchive::new(aws_sdk_dynamodb::Client::new(sdk), table),
        spill: S3Spill::new(s3_client(sdk), ""),
        invoker: LambdaInvoker::new(aws_sdk_lambda::Client::new(sdk)),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Nothing was sent, and why.
    #[error("{0}")]
    Refused(String),
    /// Some replays failed: the report.
    #[error("{0}")]
    Failed(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListArgs {
    pub function: Option<String>,
    pub class: Option<FailureClass>,
    pub since: Option<Since>,
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayArgs {
    /// One item; otherwise the `new` items matching function/class/since.
    pub id: Option<String>,
    pub function: Option<String>,
    pub class: Option<FailureClass>,
    pub since: Option<Since>,
    pub dry_run: bool,
    pub rate: Rate,
    pub force: bool,
    pub yes: bool,
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The archived failures matching the filter, a table, oldest last seen first.
pub async fn list<A: Archive>(
    archive: &A,
    clock: &dyn Clock,
    args: &ListArgs,
) -> Result<String, CliError> {
    let filter = Filter {
        function: args.function.clone(),
        class: args.class,
        since: args.since.map(|s| s.resolve(clock.now())),
        status: args.status,
    };
    let items = archive.list(&filter).await?;
    let mut out = String::new();
    if items.is_empty() {
        out.push_str("No archived failures match.\n");
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "{:<38} {:<22} {:<17} {:<8} {:>5}  {:<20}  ERROR",
        "ID", "FUNCTION", "CLASS", "STATUS", "COUNT", "LAST SEEN"
    );
    for item in &items {
        let _ = writeln!(
            out,
            "{:<38} {:<22} {:<17} {:<8} {:>5}  {:<20}  {}",
            item.id,
            one_line(item.function_name(), 22),
            item.class.as_str(),
            item.status.as_str(),
            item.count,
            iso(item.last_seen),
            one_line(&item.error_message, 80)
        );
    }
    let _ = writeln!(out, "{} failure(s).", items.len());
    Ok(out)
}

/// Everything about one failure: its fields, the advice, whether it may be replayed, the event.
pub async fn show<A: Archive, S: EventSpill>(
    archive: &A,
    spill: &S,
    id: &str,
) -> Result<String, CliError> {
    let item = archive
        .get(id)
        .await?
        .ok_or_else(|| ReplayError::NotFound(id.to_owned()))?;
    let event = event_of(spill, &item).await;
    let mut out = String::new();
    let mut field = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            let _ = writeln!(out, "{name:<14} {value}");
        }
    };
    field("Id", Some(item.id.clone()));
    field("Function", Some(item.function_name().to_owned()));
    field("Function ARN", item.function_arn.clone());
    field("Class", Some(item.class.as_str().to_owned()));
    field("Error type", item.error_type.clone());
    field("Error code", item.error_code.clone());
    field("Message", Some(item.error_message.clone()));
    field("Request id", item.request_id.clone());
    field("Condition", item.condition.clone());
    field("Attempts", item.attempts.map(|a| a.to_string()));
    field("Shape", Some(item.shape.as_str().to_owned()));
    field("Source", item.source_arn.clone());
    field("Failed at", item.failed_at.map(iso));
    field("First seen", Some(iso(item.first_seen)));
    field("Last seen", Some(iso(item.last_seen)));
    field("Deliveries", Some(item.count.to_string()));
    field("Status", Some(item.status.as_str().to_owned()));
    field(
        "Replays",
        (item.replays > 0).then(|| item.replays.to_string()),
    );
    field("Replayed at", item.replayed_at.map(iso));
    field(
        "Replayed as",
        (!item.replay_request_ids.is_empty()).then(|| item.replay_request_ids.join(", ")),
    );
    field("Resolved at", item.resolved_at.map(iso));
    field("Expires", Some(iso(item.expires_at)));
    field("Advice", Some(item.class.advice().text.to_owned()));
    let refusals = replay::refusals(&item, &event);
    let verdict = if refusals.is_empty() {
        format!(
            "yes, to {}",
            replay::target(&item).unwrap_or_else(|| "?".into())
        )
    } else {
        let reasons: Vec<String> = refusals.iter().map(|r| r.to_string()).collect();
        format!("no: {}", reasons.join("; "))
    };
    field("Replayable", Some(verdict));
    match (&item.event, event) {
        (StoredEvent::Spilled { location, bytes }, Ok(event)) => {
            let _ = writeln!(
                out,
                "Event ({location}, {bytes} bytes):\n{}",
                pretty(&event)
            );
        }
        (StoredEvent::Spilled { location, .. }, Err(e)) => {
            let _ = writeln!(out, "Event ({location}): could not be read: {e}");
        }
        (StoredEvent::Inline(_), Ok(event)) => {
            let _ = writeln!(out, "Event:\n{}", pretty(&event));
        }
        (StoredEvent::Inline(_), Err(e)) => {
            let _ = writeln!(out, "Event: {e}");
        }
    }
    Ok(out)
}

fn pretty(event: &str) -> String {
    serde_json::from_str::<Value>(event)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| event.to_owned())
}

fn plan_line(p: &Planned) -> String {
    let head = format!(
        "{:<38} {:<22} {:<17}",
        p.item.id,
        one_line(p.item.function_name(), 22),
        p.item.class.as_str()
    );
    let reasons: Vec<String> = p.refusals.iter().map(|r| r.to_string()).collect();
    match (p.send, reasons.is_empty()) {
        (true, true) => format!(
            "SEND  {head} → {} ({} bytes)",
            p.target.as_deref().unwrap_or("?"),
            p.event.as_ref().map(String::len).unwrap_or(0)
        ),
        (true, false) => format!(
            "SEND  {head} → {} (forced over: {})",
            p.target.as_deref().unwrap_or("?"),
            reasons.join("; ")
        ),
        (false, _) => format!("SKIP  {head} {}", reasons.join("; ")),
    }
}

/// Replays one failure (by id) or the `new` failures matching a function and/or class. A bulk
/// replay shows its plan and asks `confirm` first unless `--yes`; `--dry-run` only shows it.
pub async fn replay<A, S, I, P>(
    archive: &A,
    spill: &S,
    invoker: &I,
    pause: &P,
    clock: &dyn Clock,
    args: &ReplayArgs,
    confirm: &mut dyn FnMut(&str) -> bool,
) -> Result<String, CliError>
where
    A: Archive,
    S: EventSpill,
    I: Invoker,
    P: Pause,
{
    let selection = match &args.id {
        Some(id) => Selection::One(id.clone()),
        None => Selection::Matching(Filter {
            function: args.function.clone(),
            class: args.class,
            since: args.since.map(|s| s.resolve(clock.now())),
            status: None,
        }),
    };
    let planned = replay::plan(archive, spill, &selection, args.force).await?;
    let to_send = planned.iter().filter(|p| p.send).count();
    let mut plan = String::new();
    if args.id.is_none() {
        let _ = writeln!(
            plan,
            "Replay plan: {to_send} to send at {}, {} refused.",
            args.rate,
            planned.len() - to_send
        );
    }
    for p in &planned {
        let _ = writeln!(plan, "{}", plan_line(p));
    }
    if to_send == 0 {
        return match (&args.id, planned.is_empty()) {
            (_, true) => Ok("No new failures match: nothing to send.\n".to_owned()),
            (Some(id), false) => Err(CliError::Refused(format!("Not replayed: {id}\n{plan}"))),
            (None, false) => Ok(format!("{plan}Nothing to send.\n")),
        };
    }
    if args.dry_run {
        return Ok(format!("{plan}Dry run: nothing sent.\n"));
    }
    if args.id.is_none() && !args.yes && !confirm(&plan) {
        return Ok(format!("{plan}Cancelled: nothing sent.\n"));
    }
    let sent = replay::execute(archive, invoker, pause, clock, &planned, args.rate).await;
    let mut report = if args.id.is_none() {
        plan
    } else {
        String::new()
    };
    let mut failed = 0;
    for s in &sent {
        match (&s.invoked, &s.marked) {
            (Ok(request_id), Ok(())) => {
                let _ = writeln!(
                    report,
                    "Sent {} to {}{}; marked replayed.",
                    s.id,
                    s.function,
                    request_id
                        .as_deref()
                        .map(|r| format!(" (request id {r})"))
                        .unwrap_or_default()
                );
            }
            (Ok(_), Err(e)) => {
                failed += 1;
                let _ = writeln!(
                    report,
                    "Sent {} to {}, but marking it replayed failed: {e}",
                    s.id, s.function
                );
            }
            (Err(e), _) => {
                failed += 1;
                let _ = writeln!(report, "Not sent {} to {}: {e}", s.id, s.function);
            }
        }
    }
    let _ = writeln!(report, "{} sent, {failed} failed.", sent.len() - failed);
    if failed > 0 {
        Err(CliError::Failed(report))
    } else {
        Ok(report)
    }
}

/// Marks a failure resolved (fixed, nothing to replay).
pub async fn resolve<A: Archive>(
    archive: &A,
    clock: &dyn Clock,
    id: &str,
) -> Result<String, CliError> {
    archive.resolve(id, clock.now()).await.map_err(|e| {
        if e.class == fleet_core::ErrorClass::NotFound {
            CliError::Replay(ReplayError::NotFound(id.to_owned()))
        } else {
            CliError::Service(e)
        }
    })?;
    Ok(format!("{id} marked resolved.\n"))
}
