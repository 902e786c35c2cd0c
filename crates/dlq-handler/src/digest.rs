//! Alerts without a storm: failures are counted in fixed windows (aligned to the epoch) by the
//! window they were first seen in, and after a window closes the digest run sends one message
//! per function and class with the counts. 1,000 failures of one function in one window are one
//! message.
//!
//! And the per-class metrics as CloudWatch embedded-metric-format (EMF) log lines.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

use crate::classify::FailureClass;
use crate::model::{window_start, ArchivedFailure};

/// The digest run looks back this many windows, so a run that failed is caught up by the next.
pub const LOOKBACK_WINDOWS: i32 = 4;
/// A window is closed this long after its end: writes computed at its last instant have landed.
pub const CLOSE_GRACE: chrono::Duration = chrono::Duration::seconds(60);
/// A claim older than this belongs to a digest run that died; another may take it over.
pub const STALE_CLAIM: chrono::Duration = chrono::Duration::minutes(10);

/// The closed windows a digest run at `now` looks at, oldest first.
pub fn closed_windows(now: DateTime<Utc>, length: chrono::Duration) -> Vec<DateTime<Utc>> {
    let newest_closed = window_start(now - CLOSE_GRACE, length) - length;
    (0..LOOKBACK_WINDOWS)
        .rev()
        .map(|back| newest_closed - length * back)
        .collect()
}

/// The failures of one function and class in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub function: String,
    pub class: FailureClass,
    /// Distinct failures.
    pub failures: usize,
    /// Deliveries (a failure delivered twice counts twice here).
    pub deliveries: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub error_types: BTreeSet<String>,
    /// The most recent failure: its id and message.
    pub example_id: String,
    pub example_message: String,
}

/// One group per (function, class), ordered by function then class.
pub fn groups(items: &[ArchivedFailure]) -> Vec<Group> {
    let mut by_key: BTreeMap<(String, FailureClass), Group> = BTreeMap::new();
    for item in items {
        let key = (item.function_name().to_owned(), item.class);
        let group = by_key.entry(key).or_insert_with(|| Group {
            function: item.function_name().to_owned(),
            class: item.class,
            failures: 0,
            deliveries: 0,
            first_seen: item.first_seen,
            last_seen: item.last_seen,
            error_types: BTreeSet::new(),
            example_id: item.id.clone(),
            example_message: item.error_message.clone(),
        });
        group.failures += 1;
        group.deliveries += item.count;
        group.first_seen = group.first_seen.min(item.first_seen);
        if item.last_seen >= group.last_seen {
            group.last_seen = item.last_seen;
            group.example_id = item.id.clone();
            group.example_message = item.error_message.clone();
        }
        group.error_types.extend(item.error_type.clone());
    }
    by_key.into_values().collect()
}

fn hm(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

/// SNS subjects: ASCII, no line breaks, at most 100 characters.
pub fn subject(group: &Group, window: DateTime<Utc>, length: chrono::Duration) -> String {
    let plural = if group.failures == 1 { "" } else { "s" };
    // The function name goes last: a long one is what gets clipped.
    let subject = format!(
        "DLQ {}-{} UTC: {} {} failure{plural}, {}",
        hm(window),
        hm(window + length),
        group.failures,
        group.class,
        group.function,
    );
    subject
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(100)
        .collect()
}

/// The digest message of one group.
pub fn text(group: &Group, window: DateTime<Utc>, length: chrono::Duration) -> String {
    let advice = group.class.advice();
    let iso = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut lines = vec![
        format!(
            "{}: {} failure(s) of class {} first seen between {} and {} ({} deliveries).",
            group.function,
            group.failures,
            group.class,
            iso(window),
            iso(window + length),
            group.deliveries
        ),
        format!(
            "First {}, last {}.",
            iso(group.first_seen),
            iso(group.last_seen)
        ),
    ];
    if !group.error_types.is_empty() {
        let types: Vec<&str> = group.error_types.iter().map(String::as_str).collect();
        lines.push(format!("Error type: {}.", types.join(", ")));
    }
    lines.push(format!(
        "Latest ({}): {}",
        group.example_id, group.example_message
    ));
    lines.push(format!("Advice: {}", advice.text));
    lines.push(format!(
        "List them: fleet dlq list --function {} --class {} --since {}",
        group.function,
        group.class,
        iso(window)
    ));
    lines.join("\n")
}

/// CloudWatch namespace of the handler's metrics.
pub const NAMESPACE: &str = "CloudopsFleet/DeadLetters";

/// One EMF line: `Failures` (count) with dimensions Function and Class.
pub fn emf_failures(function: &str, class: FailureClass, count: u64, at: DateTime<Utc>) -> String {
    json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function", "Class"]],
                "Metrics": [{"Name": "Failures", "Unit": "Count"}],
            }],
        },
        "Function": function,
        "Class": class.as_str(),
        "Failures": count,
    })
    .to_string()
}

/// One EMF line: `ArchiveErrors` (messages left for SQS to redeliver), no dimension.
pub fn emf_archive_errors(count: u64, at: DateTime<Utc>) -> String {
    json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [{"Name": "ArchiveErrors", "Unit": "Count"}],
            }],
        },
        "ArchiveErrors": count,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_looks_at_the_last_closed_windows() {
        let len = chrono::Duration::minutes(15);
        let now: DateTime<Utc> = "2026-11-23T09:16:30Z".parse().unwrap();
        let windows: Vec<String> = closed_windows(now, len)
            .iter()
            .map(|w| w.format("%H:%M").to_string())
            .collect();
        assert_eq!(windows, ["08:15", "08:30", "08:45", "09:00"]);
        // Within the grace after 09:15, 09:00-09:15 is not closed yet.
        let now: DateTime<Utc> = "2026-11-23T09:15:30Z".parse().unwrap();
        assert_eq!(
            closed_windows(now, len)
                .last()
                .map(|w| w.format("%H:%M").to_string()),
            Some("08:45".to_owned())
        );
    }
}
