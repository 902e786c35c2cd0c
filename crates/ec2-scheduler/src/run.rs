//! One scheduler run: read the window, page through the tagged instances, decide, act in batches,
//! rewrite tags, report. Generic over the ports so the same code runs against EC2, the in-memory
//! fake and the local stand-in.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::decide::{evaluate, Action, InstanceState, Verdict, Window};
use crate::ports::{Ec2Error, Ec2Port, StateChange, StateError, StateStore};
use fleet_core::{Clock, Deadline, ErrorType, RunSummary};
use fleet_ec2::{change_state_in_batches, create_tags_in_batches, describe_all, InstanceQuery};

pub use fleet_ec2::{CallCounts, Outcome};

pub const SCHEDULE_TAG: &str = "Schedule";
pub const SCHEDULE_ERROR_TAG: &str = "ScheduleError";

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Plan, log and report; change nothing (no EC2 writes, no state table write).
    pub dry_run: bool,
    pub max_terminations_per_run: usize,
    /// The window used when the state table has no previous run: the schedule's rate.
    pub default_window: Duration,
    /// Instance ids per Start/Stop/Terminate/CreateTags call.
    pub batch_size: usize,
    /// Stop issuing calls when less than this remains before the Lambda deadline.
    pub deadline_margin: Duration,
    /// Keep "nothing to do" decisions in the report too (the CLI's plan shows every instance).
    pub report_unchanged: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dry_run: false,
            max_terminations_per_run: 5,
            default_window: Duration::minutes(10),
            batch_size: 100,
            deadline_margin: Duration::seconds(10),
            report_unchanged: false,
        }
    }
}

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
    #[serde(skip)]
    error_tag: Option<String>,
}

impl DecisionRecord {
    /// Worth a line in the report and an INFO log: anything other than "nothing to do".
    pub fn is_notable(&self) -> bool {
        self.action != Action::None
            || self.rewrite_tag.is_some()
            || self.outcome != Outcome::Unchanged
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
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Every instance was decided and every decision carried out or finally failed.
    pub complete: bool,
    pub dry_run: bool,
    /// `deadline` when the run stopped early to finish before the Lambda timeout.
    pub stopped_early: Option<&'static str>,
    pub window: Window,
    pub instances_seen: usize,
    pub counts: Counts,
    /// Sum over the schedules seen of the hours per day each keeps its instance off.
    pub instance_hours_saved_per_day: f64,
    /// The notable decisions (anything but "nothing to do"; every decision when
    /// `Settings::report_unchanged`), with their outcome.
    pub actions: Vec<DecisionRecord>,
    /// Calls made to EC2, by operation.
    pub ec2_calls: CallCounts,
}

impl RunReport {
    /// Some change failed for a reason that another run may not hit (throttling, 5xx).
    pub fn has_transient_failures(&self) -> bool {
        self.actions
            .iter()
            .any(|r| r.outcome.is_transient_failure())
    }
}

impl RunSummary for RunReport {
    /// Anything an operator would want to hear about.
    fn has_news(&self) -> bool {
        self.actions.iter().any(DecisionRecord::is_notable) || !self.complete
    }

    fn transient_failures(&self) -> usize {
        self.actions
            .iter()
            .filter(|r| r.outcome.is_transient_failure())
            .count()
    }

    fn subject(&self) -> String {
        let mut subject = String::from("EC2 scheduler report");
        if self.dry_run {
            subject.push_str(" (dry run)");
        }
        if !self.complete {
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
        out.push_str(&format!(
            "Instances with a Schedule tag: {}\n\
             Started {}, stopped {}, terminated {}, tags rewritten {} (invalid {}), \
             protected {}, failed {}, held {}, not attempted {}\n\
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
            self.instance_hours_saved_per_day
        ));
        for r in &self.actions {
            let outcome = match &r.outcome {
                Outcome::Unchanged => "unchanged".to_owned(),
                Outcome::Planned => "planned".to_owned(),
                Outcome::Done => "done".to_owned(),
                Outcome::Protected { message } => format!("protected: {message}"),
                Outcome::Failed { code, message, .. } => format!("FAILED {code}: {message}"),
                Outcome::Held => "held: MaxTerminationsPerRun reached".to_owned(),
                Outcome::NotAttempted => "not attempted (deadline)".to_owned(),
            };
            out.push_str(&format!(
                "\n{} ({}) Schedule=\"{}\": {} — {}; {}",
                r.instance_id,
                r.name.as_deref().unwrap_or("no Name"),
                r.schedule,
                r.action,
                outcome,
                r.reason
            ));
            if let Some(tag) = &r.rewrite_tag {
                out.push_str(&format!("; Schedule tag becomes \"{tag}\""));
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("listing instances: {0}")]
    Describe(#[from] Ec2Error),
}

impl ErrorType for RunError {
    fn error_type(&self) -> &'static str {
        match self {
            RunError::State(e) => e.error_type(),
            RunError::Describe(e) => e.error_type(),
        }
    }
}

/// The scheduler, wired to its ports.
pub struct Scheduler<E, S, C> {
    pub ec2: E,
    pub state: S,
    pub clock: C,
    pub settings: Settings,
}

impl<E: Ec2Port, S: StateStore, C: Clock> Scheduler<E, S, C> {
    /// Runs once for the scheduled instant `now`. `deadline` is when Lambda would kill the run.
    pub async fn run(
        &self,
        now: DateTime<Utc>,
        deadline: Option<DateTime<Utc>>,
    ) -> Result<RunReport, RunError> {
        let deadline = Deadline::new(&self.clock, deadline, self.settings.deadline_margin);
        let last_run = self
            .state
            .last_successful_run()
            .await?
            .unwrap_or(now - self.settings.default_window);
        let window = Window { last_run, now };
        let mut calls = CallCounts::default();
        let mut stopped_early = None;
        let mut records = Vec::new();
        let mut hours_saved = 0.0;

        let query = InstanceQuery {
            tag_key: Some(SCHEDULE_TAG.to_owned()),
            ..InstanceQuery::default()
        };
        let (instances, complete) =
            describe_all(&self.ec2, &query, || deadline.reached(), &mut calls).await?;
        if !complete {
            stopped_early = Some("deadline");
        }
        for mut instance in instances {
            let Some(schedule) = instance.tags.remove(SCHEDULE_TAG) else {
                continue;
            };
            let verdict: Verdict = evaluate(&schedule, Some(instance.state), window);
            hours_saved += verdict.hours_saved_per_day;
            records.push(DecisionRecord {
                name: instance.tags.remove("Name"),
                instance_id: instance.id,
                schedule,
                state: instance.state,
                action: verdict.action,
                reason: verdict.reason,
                rewrite_tag: verdict.rewrite_tag,
                error_tag: verdict.error_tag,
                outcome: Outcome::Unchanged,
            });
        }

        if stopped_early.is_none() {
            self.hold_excess_terminations(&mut records);
            if self.settings.dry_run {
                for r in records
                    .iter_mut()
                    .filter(|r| r.is_notable() && r.outcome == Outcome::Unchanged)
                {
                    r.outcome = Outcome::Planned;
                }
            } else {
                for change in [
                    StateChange::Stop,
                    StateChange::Start,
                    StateChange::Terminate,
                ] {
                    self.change_states(change, &mut records, &deadline, &mut calls)
                        .await;
                }
                self.rewrite_tags(&mut records, &deadline, &mut calls).await;
            }
        }
        if stopped_early.is_none() && records.iter().any(|r| r.outcome == Outcome::NotAttempted) {
            stopped_early = Some("deadline");
        }

        records.iter().for_each(log_decision);
        let mut report = summarise(
            window,
            records,
            hours_saved,
            stopped_early,
            self.settings.dry_run,
            calls,
        );
        if !self.settings.report_unchanged {
            report.actions.retain(DecisionRecord::is_notable);
        }
        if report.complete && !self.settings.dry_run {
            self.state.record_successful_run(now).await?;
        }
        tracing::info!(
            complete = report.complete,
            dry_run = report.dry_run,
            instances_seen = report.instances_seen,
            started = report.counts.start,
            stopped = report.counts.stop,
            terminated = report.counts.terminate,
            failed = report.counts.failed,
            "scheduler run finished"
        );
        Ok(report)
    }

    fn hold_excess_terminations(&self, records: &mut [DecisionRecord]) {
        let max = self.settings.max_terminations_per_run;
        for r in records
            .iter_mut()
            .filter(|r| r.action == Action::Terminate)
            .skip(max)
        {
            r.outcome = Outcome::Held;
            r.rewrite_tag = None;
            r.reason = format!("{}; held: at most {max} terminations per run", r.reason);
        }
    }

    /// Batches of ids per call, with EC2's per-instance fallback (see `apply_in_batches`).
    async fn change_states(
        &self,
        change: StateChange,
        records: &mut [DecisionRecord],
        deadline: &Deadline<'_, C>,
        calls: &mut CallCounts,
    ) {
        let indexes: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                state_change(r.action) == Some(change) && r.outcome == Outcome::Unchanged
            })
            .map(|(i, _)| i)
            .collect();
        let ids: Vec<String> = indexes
            .iter()
            .map(|&i| records[i].instance_id.clone())
            .collect();
        let outcomes = change_state_in_batches(
            &self.ec2,
            change,
            &ids,
            self.settings.batch_size,
            || deadline.reached(),
            calls,
        )
        .await;
        for (&i, applied) in indexes.iter().zip(outcomes) {
            records[i].outcome = applied.into();
        }
    }

    /// Invalid values and carried-out one-offs get `#` + their value (and invalid ones a
    /// `ScheduleError`). Instances that need the same tags share one CreateTags call.
    async fn rewrite_tags(
        &self,
        records: &mut [DecisionRecord],
        deadline: &Deadline<'_, C>,
        calls: &mut CallCounts,
    ) {
        let mut groups: BTreeMap<Vec<(String, String)>, Vec<usize>> = BTreeMap::new();
        for (i, r) in records.iter().enumerate() {
            if let (true, Some(value)) = (consumes_tag(&r.outcome), &r.rewrite_tag) {
                let mut tags = vec![(SCHEDULE_TAG.to_owned(), value.clone())];
                if let Some(error) = &r.error_tag {
                    tags.push((SCHEDULE_ERROR_TAG.to_owned(), error.clone()));
                }
                groups.entry(tags).or_default().push(i);
            }
        }
        for (tags, members) in groups {
            let ids: Vec<String> = members
                .iter()
                .map(|&i| records[i].instance_id.clone())
                .collect();
            let outcomes = create_tags_in_batches(
                &self.ec2,
                &ids,
                &tags,
                self.settings.batch_size,
                || deadline.reached(),
                calls,
            )
            .await;
            for (&i, applied) in members.iter().zip(outcomes) {
                let r = &mut records[i];
                // Keep what the state change reported (e.g. Protected); a tag problem only
                // replaces a clean outcome.
                match Outcome::from(applied) {
                    Outcome::Done if r.outcome == Outcome::Unchanged => r.outcome = Outcome::Done,
                    Outcome::Done => {}
                    problem if matches!(r.outcome, Outcome::Unchanged | Outcome::Done) => {
                        r.outcome = problem;
                    }
                    _ => {}
                }
            }
        }
    }
}

/// A one-off is consumed (and an invalid value commented) unless the change may still succeed on
/// a later run: transient failures, held terminations and unattempted work keep the tag.
fn consumes_tag(outcome: &Outcome) -> bool {
    !matches!(
        outcome,
        Outcome::Failed {
            transient: true,
            ..
        } | Outcome::Held
            | Outcome::NotAttempted
            | Outcome::Planned
    )
}

fn state_change(action: Action) -> Option<StateChange> {
    match action {
        Action::Start => Some(StateChange::Start),
        Action::Stop => Some(StateChange::Stop),
        Action::Terminate => Some(StateChange::Terminate),
        Action::None => None,
    }
}

fn summarise(
    window: Window,
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
        if r.error_tag.is_some() {
            counts.invalid += 1;
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
        instances_seen,
        counts,
        instance_hours_saved_per_day,
        actions: records,
        ec2_calls,
    };
    report.complete = report.complete && !report.has_transient_failures();
    report
}

/// One JSON line per decision (with Lambda's JSON log format). "Nothing to do" lines are DEBUG so
/// a fleet of thousands does not pay CloudWatch for them every ten minutes.
fn log_decision(r: &DecisionRecord) {
    let outcome = r.outcome.name();
    macro_rules! decision {
        ($level:ident) => {
            tracing::$level!(
                instance_id = %r.instance_id,
                name = r.name.as_deref().unwrap_or(""),
                schedule = %r.schedule,
                state = %r.state,
                action = %r.action,
                outcome = %outcome,
                reason = %r.reason,
                "decision"
            )
        };
    }
    if r.is_notable() {
        decision!(info);
    } else {
        decision!(debug);
    }
}
