//! `fleet`: the operator's command line. Every rule comes from the functions' libraries.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use ec2_scheduler::memory::MemoryState;
use ec2_scheduler::ports::{Ec2Port, StateStore};
use ec2_scheduler::{evaluate, InstanceState, RunReport, Scheduler, Settings, Window};
use fleet_core::{FixedClock, RunSummary};
use tagging_policy::ports::{CreatorLookup, LookupError, RuleSource};
use tagging_policy::rules::Policy;
use tagging_policy::{Engine, RuleAction, Settings as TaggingSettings, Trigger};

/// `fleet schedule explain`: one JSON object. `first_seen` is the start of the window of the run
/// that first saw the tag (default: this run's, `last_run`); that run's window is taken to be as
/// long as this one.
pub fn explain(
    tag: &str,
    at: DateTime<Utc>,
    last_run: Option<DateTime<Utc>>,
    state: Option<InstanceState>,
    first_seen: Option<DateTime<Utc>>,
) -> serde_json::Value {
    let window = Window {
        last_run: last_run.unwrap_or(at - Duration::minutes(10)),
        now: at,
    };
    let first_seen = first_seen.map(|after| Window {
        last_run: after,
        now: after + (window.now - window.last_run),
    });
    let verdict = evaluate(tag, state, window, first_seen);
    serde_json::json!({
        "valid": verdict.valid,
        "action": verdict.action,
        "rewrite_tag": verdict.rewrite_tag,
        "reason": verdict.reason,
    })
}

/// `fleet schedule plan`: the real run, as a dry run that lists every instance.
pub async fn plan<E: Ec2Port, S: StateStore>(
    ec2: E,
    state: S,
    at: DateTime<Utc>,
) -> Result<RunReport, String> {
    let scheduler = Scheduler {
        ec2,
        state,
        clock: FixedClock::at(at),
        settings: Settings {
            dry_run: true,
            report_unchanged: true,
            ..Settings::default()
        },
    };
    scheduler
        .run(at, None, None)
        .await
        .map_err(|e| e.to_string())
}

/// A state store that only knows the given last run (used without `--state-table`).
pub fn fixed_last_run(at: DateTime<Utc>, last_run: Option<DateTime<Utc>>) -> MemoryState {
    MemoryState::with_last_run(Some(last_run.unwrap_or(at - Duration::minutes(10))))
}

/// The plan as a readable table.
pub fn render_plan(report: &RunReport) -> String {
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut rows = vec![[
        "INSTANCE".to_owned(),
        "NAME".to_owned(),
        "STATE".to_owned(),
        "SCHEDULE".to_owned(),
        "ACTION".to_owned(),
        "WHY".to_owned(),
    ]];
    for r in &report.actions {
        let mut why = r.reason.clone();
        if let Some(tag) = &r.rewrite_tag {
            why.push_str(&format!("; tag becomes {tag:?}"));
        }
        rows.push([
            r.instance_id.clone(),
            r.name.clone().unwrap_or_default(),
            r.state.to_string(),
            r.schedule.clone(),
            r.action.to_string(),
            why,
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "Plan for {} (window after {}), read-only: nothing is changed\n\n",
        ts(report.window.now),
        ts(report.window.last_run)
    );
    for row in &rows {
        for (c, width) in widths.iter().enumerate() {
            out.push_str(&format!("{:<width$}  ", row[c], width = width));
        }
        out.push_str(&row[5]);
        out.push('\n');
    }
    let c = &report.counts;
    out.push_str(&format!(
        "\n{} instances: start {}, stop {}, terminate {}, tag rewrites {}, held {}; {:.1} instance-hours saved per day\n",
        report.instances_seen, c.start, c.stop, c.terminate, c.tags_rewritten, c.held, report.instance_hours_saved_per_day
    ));
    out
}

/// `fleet tagging plan --no-lookup`: CloudTrail is not asked; creators are reported as not looked up.
pub struct NoLookup;

impl CreatorLookup for NoLookup {
    async fn launched_by(
        &self,
        _instance_id: &str,
        _launched_at: Option<DateTime<Utc>>,
    ) -> Result<Option<String>, LookupError> {
        Err(LookupError {
            code: "NotLookedUp".to_owned(),
            message: "--no-lookup was given".to_owned(),
            transient: false,
        })
    }
}

/// `fleet tagging plan`: the real engine as a dry run that lists every instance.
pub async fn tagging_plan<E: Ec2Port, R: RuleSource, L: CreatorLookup>(
    ec2: E,
    rules: R,
    lookup: L,
    settings: TaggingSettings,
    at: DateTime<Utc>,
) -> Result<String, String> {
    let engine = Engine {
        ec2,
        rules,
        lookup,
        clock: FixedClock::at(at),
        // A plan records nothing: instances without a launch time count as first seen now.
        state: tagging_policy::memory::MemoryPolicyState::default(),
        settings: TaggingSettings {
            dry_run: true,
            report_compliant: true,
            ..settings
        },
    };
    let report = engine
        .run(&Trigger::Sweep, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(report.to_text())
}

/// `fleet tagging rules validate`: every row, usable or skipped. `Err` holds the same text when
/// a row is bad, so the command can fail.
pub fn render_rules(table: &str, policy: &Policy) -> Result<String, String> {
    let mut out = format!(
        "Rules table {table}: {} usable, {} skipped\n",
        policy.rules.len(),
        policy.problems.len()
    );
    for rule in &policy.rules {
        let action = match &rule.action {
            RuleAction::Update { default } => format!("Update to {default:?}"),
            RuleAction::UserLookup => "UserLookup (who launched it)".to_owned(),
            RuleAction::Function { function } => format!("Function {function}"),
        };
        out.push_str(&format!(
            "  rule {}: {} {}, {}\n",
            rule.rule_id,
            rule.tag_key,
            if rule.required {
                "required (missing or empty is a violation)"
            } else {
                "optional (only an empty value is a violation)"
            },
            action
        ));
    }
    for problem in &policy.problems {
        out.push_str(&format!(
            "  rule {}: SKIPPED, {}\n",
            problem.rule_id, problem.reason
        ));
    }
    if policy.problems.is_empty() {
        Ok(out)
    } else {
        Err(out)
    }
}
