//! A run's report: every notable decision with its outcome, the counts, and the text that goes to
//! the report topic.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::decide::{Action, InstanceState, Window};
use crate::ports::{InstanceNote, PendingAction};
use crate::run::consumes_tag;
use fleet_core::ledger::EventReport;
use fleet_core::RunSummary;
use fleet_ec2::{CallCounts, Outcome};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    pub instance_id: String,
    pub name: Option<String>,
    pub schedule: String,
    pub state: InstanceState,
    pub action: Action,
    pub reason: String,
    pub rewrite_tag: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The action left pending by this run, retried by the next ones.
    pub pending: Option<PendingAction>,
    /// A pending action this run dropped, and why.
    pub dropped: Option<String>,
    #[serde(skip)]
    pub(crate) error_tag: Option<String>,
    #[serde(skip)]
    pub(crate) valid: bool,
    /// The action this run carries out, with its due instant and pending history.
    #[serde(skip)]
    pub(crate) attempt: Option<PendingAction>,
    /// For a one-off: the window of the run that first saw the value.
    #[serde(skip)]
    pub(crate) first_seen: Option<Window>,
    #[serde(skip)]
    pub(crate) clear_error_tag: bool,
    #[serde(skip)]
    pub(crate) tag_rewritten: bool,
}

impl DecisionRecord {
    /// Worth a line in the report and an INFO log: anything other than "nothing to do".
    pub fn is_notable(&self) -> bool {
        self.action != Action::None
            || self.rewrite_tag.is_some()
            || self.outcome != Outcome::Unchanged
            || self.pending.is_some()
            || self.dropped.is_some()
            || self.clear_error_tag
    }

    /// An attempted action that was held, not attempted or failed transiently stays pending.
    pub(crate) fn settle_pending(&mut self) {
        let unfinished = matches!(self.outcome, Outcome::Held | Outcome::NotAttempted)
            || self.outcome.is_transient_failure();
        if self.pending.is_none() && self.action != Action::None && unfinished {
            self.pending = self.attempt;
        }
    }

    /// What the state table must remember about this instance after the run.
    pub(crate) fn note(&self) -> Option<InstanceNote> {
        let one_off_in_force = self.first_seen.is_some() && !self.tag_rewritten;
        (self.pending.is_some() || one_off_in_force).then(|| InstanceNote {
            instance_id: self.instance_id.clone(),
            schedule: self.schedule.clone(),
            first_seen: self.first_seen,
            pending: self.pending,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub start: usize,
    pub stop: usize,
    pub terminate: usize,
    pub tags_rewritten: usize,
    pub invalid: usize,
    pub protected: usize,
    pub failed: usize,
    pub held: usize,
    pub not_attempted: usize,
    pub unchanged: usize,
    /// Actions left pending for the next runs.
    pub pending: usize,
    /// Pending actions dropped (expired, superseded, tag changed).
    pub dropped: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Every instance was decided and every decision carried out or finally failed.
    pub complete: bool,
    pub dry_run: bool,
    /// `deadline` when the run stopped early to finish before the Lambda timeout.
    pub stopped_early: Option<&'static str>,
    pub window: Window,
    /// PendingActionTtlMinutes: how long a pending action is retried.
    pub pending_ttl_minutes: i64,
    pub instances_seen: usize,
    pub counts: Counts,
    /// Sum over the schedules seen of the hours per day each keeps its instance off.
    pub instance_hours_saved_per_day: f64,
    /// The notable decisions (anything but "nothing to do"; every decision when
    /// `Settings::report_unchanged`), with their outcome.
    pub actions: Vec<DecisionRecord>,
    /// Calls made to EC2, by operation.
    pub ec2_calls: CallCounts,
    /// The state table refused the run's notes or its window after the changes were made: the
    /// report still goes out (what was done is not lost), then the invocation fails with this
    /// error so Lambda's retry writes them (the window has not moved; it changes nothing again).
    #[serde(skip)]
    pub state_not_saved: Option<fleet_core::ServiceError>,
}

impl RunReport {
    /// Some change failed for a reason that another run may not hit (throttling, 5xx).
    pub fn has_transient_failures(&self) -> bool {
        self.transient_failures() > 0
    }
}

impl EventReport for RunReport {
    fn has_changes(&self) -> bool {
        self.actions.iter().any(|r| {
            r.dropped.is_some()
                || matches!(
                    r.outcome,
                    Outcome::Done | Outcome::Failed { .. } | Outcome::Protected { .. }
                )
        })
    }
}

impl RunSummary for RunReport {
    /// Anything an operator would want to hear about.
    fn has_news(&self) -> bool {
        self.actions.iter().any(DecisionRecord::is_notable)
            || !self.complete
            || self.state_not_saved.is_some()
    }

    /// Transient failures that did not become pending actions (none: every one does).
    fn transient_failures(&self) -> usize {
        self.actions
            .iter()
            .filter(|r| r.outcome.is_transient_failure() && r.pending.is_none())
            .count()
    }

    fn subject(&self) -> String {
        let mut subject = String::from("EC2 scheduler report");
        if self.dry_run {
            subject.push_str(" (dry run)");
        }
        if !self.complete || self.state_not_saved.is_some() {
            subject.push_str(" (incomplete)");
        }
        subject
    }

    /// The report as plain text, for the SNS topic (and its email subscribers).
    fn to_text(&self) -> String {
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let c = &self.counts;
        let mut out = format!(
            "EC2 scheduler run at {}{}\nWindow: after {} up to {}\n",
            ts(self.window.now),
            if self.dry_run {
                " — DRY RUN, nothing was changed"
            } else {
                ""
            },
            ts(self.window.last_run),
            ts(self.window.now),
        );
        if let Some(why) = self.stopped_early {
            out.push_str(&format!(
                "INCOMPLETE: stopped early ({why}); the next run covers this window again\n"
            ));
        }
        if let Some(error) = &self.state_not_saved {
            out.push_str(&format!(
                "INCOMPLETE: the state table did not record this run ({error}); the run fails \
                 and Lambda's retry records it, repeating none of the changes below\n"
            ));
        }
        out.push_str(&format!(
            "Instances with a Schedule tag: {}\n\
             Started {}, stopped {}, terminated {}, tags rewritten {} (invalid {}), \
             protected {}, failed {}, held {}, not attempted {}\n\
             Pending actions for the next runs {}, pending actions dropped {}\n\
             Instance-hours saved per day by these schedules: {:.1}\n",
            self.instances_seen,
            c.start,
            c.stop,
            c.terminate,
            c.tags_rewritten,
            c.invalid,
            c.protected,
            c.failed,
            c.held,
            c.not_attempted,
            c.pending,
            c.dropped,
            self.instance_hours_saved_per_day
        ));
        for r in &self.actions {
            let outcome = r.outcome.describe("MaxTerminationsPerRun");
            // Tag values are typed by anyone who may tag an instance: quoted and escaped (`{:?}`),
            // so a value with a newline or a quote cannot forge a line of the report.
            let name = r
                .name
                .as_deref()
                .map_or_else(|| "no Name".to_owned(), |n| format!("{n:?}"));
            out.push_str(&format!(
                "\n{} ({name}) Schedule={:?}: {} — {}; {}",
                r.instance_id,
                r.schedule,
                r.action,
                outcome,
                r.reason.escape_debug()
            ));
            if let Some(tag) = &r.rewrite_tag {
                out.push_str(&format!("; Schedule tag becomes {tag:?}"));
            }
            if let Some(p) = &r.pending {
                out.push_str(&format!(
                    "; PENDING {} (due {}), retried until {}",
                    p.action,
                    ts(p.due_at),
                    ts(p.since + chrono::Duration::minutes(self.pending_ttl_minutes))
                ));
            }
            if let Some(why) = &r.dropped {
                out.push_str(&format!("; {}", why.escape_debug()));
            }
        }
        out
    }
}

pub(crate) fn summarise(
    window: Window,
    pending_ttl_minutes: i64,
    records: Vec<DecisionRecord>,
    instance_hours_saved_per_day: f64,
    stopped_early: Option<&'static str>,
    dry_run: bool,
    ec2_calls: CallCounts,
) -> RunReport {
    let mut counts = Counts::default();
    for r in &records {
        let carried_out = matches!(r.outcome, Outcome::Done | Outcome::Planned);
        match (r.action, carried_out) {
            (Action::Start, true) => counts.start += 1,
            (Action::Stop, true) => counts.stop += 1,
            (Action::Terminate, true) => counts.terminate += 1,
            _ => {}
        }
        if r.rewrite_tag.is_some() && (consumes_tag(&r.outcome) || r.outcome == Outcome::Planned) {
            counts.tags_rewritten += 1;
        }
        if !r.valid {
            counts.invalid += 1;
        }
        if r.pending.is_some() {
            counts.pending += 1;
        }
        if r.dropped.is_some() {
            counts.dropped += 1;
        }
        match r.outcome {
            Outcome::Protected { .. } => counts.protected += 1,
            Outcome::Failed { .. } => counts.failed += 1,
            Outcome::Held => counts.held += 1,
            Outcome::NotAttempted => counts.not_attempted += 1,
            Outcome::Unchanged => counts.unchanged += 1,
            Outcome::Done | Outcome::Planned => {}
        }
    }
    let instances_seen = records.len();
    let mut report = RunReport {
        complete: stopped_early.is_none(),
        dry_run,
        stopped_early,
        window,
        pending_ttl_minutes,
        instances_seen,
        counts,
        instance_hours_saved_per_day,
        actions: records,
        ec2_calls,
        state_not_saved: None,
    };
    report.complete = report.complete && !report.has_transient_failures();
    report
}
