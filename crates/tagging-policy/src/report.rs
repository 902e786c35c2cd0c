//! A run's report: each instance with something to say, the counts, and the text that goes to the
//! report topic.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::assess::{UntaggedAction, Violation};
use crate::rules::RuleProblem;
use fleet_core::ledger::EventReport;
use fleet_core::RunSummary;
use fleet_ec2::{CallCounts, InstanceState, Outcome, StateChange};

/// The untagged action taken on one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enforcement {
    pub action: UntaggedAction,
    pub note: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    #[serde(skip)]
    pub(crate) change: Option<StateChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceRecord {
    pub instance_id: String,
    pub name: Option<String>,
    pub state: InstanceState,
    pub launched_at: Option<DateTime<Utc>>,
    /// Untagged and within the grace period until then.
    pub in_grace_until: Option<DateTime<Utc>>,
    /// Untagged, grace over.
    pub untagged: Option<Enforcement>,
    pub violations: Vec<Violation>,
    /// The original launch (primary interface attached): narrows the CloudTrail search.
    #[serde(skip)]
    pub(crate) created_at: Option<DateTime<Utc>>,
}

impl InstanceRecord {
    pub fn is_compliant(&self) -> bool {
        self.untagged.is_none() && self.in_grace_until.is_none() && self.violations.is_empty()
    }

    pub(crate) fn outcomes(&self) -> impl Iterator<Item = &Outcome> {
        self.untagged
            .iter()
            .map(|e| &e.outcome)
            .chain(self.violations.iter().map(|v| &v.outcome))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub instances_checked: usize,
    pub compliant: usize,
    pub violations: usize,
    pub tags_set: usize,
    pub creators_undefined: usize,
    pub untagged: usize,
    pub stopped: usize,
    pub terminated: usize,
    pub protected: usize,
    pub held: usize,
    pub failed: usize,
    pub not_attempted: usize,
    pub in_grace: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub at: DateTime<Utc>,
    pub trigger: String,
    pub dry_run: bool,
    /// Every instance in scope was assessed and every fix carried out or finally failed.
    pub complete: bool,
    /// `deadline` when the run stopped early to finish before the Lambda timeout.
    pub stopped_early: Option<&'static str>,
    pub rules_applied: usize,
    /// Rows of the rules table that were skipped.
    pub rule_problems: Vec<RuleProblem>,
    pub counts: Counts,
    /// Instances with something to say (every instance with `Settings::report_compliant`).
    pub instances: Vec<InstanceRecord>,
    /// Launched instances that DescribeInstances does not show (yet, or outside the VPCs in scope).
    pub not_in_scope: Vec<String>,
    pub ec2_calls: CallCounts,
    pub cloudtrail_lookups: usize,
}

pub const REPORT_SUBJECT: &str = "Tagging policy report";

impl Report {
    pub fn has_transient_failures(&self) -> bool {
        self.transient_failures() > 0
    }
}

impl EventReport for Report {
    /// A tag was written, an instance stopped or terminated, or a change failed (not only held
    /// or planned).
    fn has_changes(&self) -> bool {
        self.instances
            .iter()
            .flat_map(InstanceRecord::outcomes)
            .any(|o| {
                matches!(
                    o,
                    Outcome::Done | Outcome::Failed { .. } | Outcome::Protected { .. }
                )
            })
    }
}

impl RunSummary for Report {
    /// Something an administrator should hear about: a violation, an untagged instance, a bad
    /// rule, an unfinished run. Compliant instances and ones still in grace are not news.
    fn has_news(&self) -> bool {
        !self.complete
            || !self.rule_problems.is_empty()
            || self
                .instances
                .iter()
                .any(|r| r.untagged.is_some() || !r.violations.is_empty())
    }

    fn subject(&self) -> String {
        REPORT_SUBJECT.to_owned()
    }

    fn transient_failures(&self) -> usize {
        self.instances
            .iter()
            .flat_map(InstanceRecord::outcomes)
            .filter(|o| o.is_transient_failure())
            .count()
    }

    /// The report as plain text, for the SNS topic (and its email subscribers).
    fn to_text(&self) -> String {
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let c = &self.counts;
        let mut out = format!("Tagging policy run at {} ({})", ts(self.at), self.trigger);
        if self.dry_run {
            out.push_str(" — DRY RUN, nothing was changed");
        }
        out.push('\n');
        if let Some(why) = self.stopped_early {
            out.push_str(&format!(
                "INCOMPLETE: stopped early ({why}); the next run continues\n"
            ));
        }
        out.push_str(&format!(
            "Instances checked: {}, compliant {}, violations {}, tags set {}, creators undefined {}, \
             untagged {} (stopped {}, terminated {}, protected {}, held {}), failed {}, \
             not attempted {}, in grace {}\n",
            c.instances_checked,
            c.compliant,
            c.violations,
            c.tags_set,
            c.creators_undefined,
            c.untagged,
            c.stopped,
            c.terminated,
            c.protected,
            c.held,
            c.failed,
            c.not_attempted,
            c.in_grace
        ));
        for p in &self.rule_problems {
            out.push_str(&format!("Rule {} skipped: {}\n", p.rule_id, p.reason));
        }
        for id in &self.not_in_scope {
            out.push_str(&format!(
                "{id}: not listed by EC2 (not visible yet, or outside the VPCs in scope); the next sweep covers it\n"
            ));
        }
        for r in &self.instances {
            out.push_str(&format!(
                "\n{} ({}) {}:",
                r.instance_id,
                r.name.as_deref().unwrap_or("no Name"),
                r.state
            ));
            if r.is_compliant() {
                out.push_str(" compliant");
            }
            if let Some(until) = r.in_grace_until {
                out.push_str(&format!(
                    " no tags yet; in its grace period until {}",
                    ts(until)
                ));
            }
            if let Some(e) = &r.untagged {
                out.push_str(&format!(
                    "\n  no tags at all → {}: {}; {}",
                    e.action,
                    outcome_text(&e.outcome),
                    e.note
                ));
            }
            for v in &r.violations {
                let fix = match &v.value {
                    Some(value) => format!("set {value:?}"),
                    None => "not set".to_owned(),
                };
                out.push_str(&format!(
                    "\n  {} {} → {} (rule {}, {}: {}): {}",
                    v.tag_key,
                    match v.problem {
                        crate::assess::Problem::Missing => "missing",
                        crate::assess::Problem::Empty => "empty",
                    },
                    fix,
                    v.rule_id,
                    v.action,
                    v.detail,
                    outcome_text(&v.outcome)
                ));
            }
        }
        out.push('\n');
        out
    }
}

fn outcome_text(outcome: &Outcome) -> String {
    outcome.describe("MaxEnforcementsPerRun")
}
