//! One scheduler run: read the window, page through the tagged instances, decide, act in batches,
//! rewrite tags, report. Generic over the ports so the same code runs against EC2, the in-memory
//! fake and the local stand-in.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use crate::decide::{evaluate, Action, Verdict, Window};
use crate::ports::{Ec2Error, Ec2Port, StateChange, StateStore};
use crate::report::{summarise, DecisionRecord, RunReport};
use crate::trigger::MAX_AHEAD_OF_CLOCK;
use fleet_core::{Classified, Clock, Deadline, ErrorClass, ServiceError};
use fleet_ec2::{Batches, InstanceQuery, Targets};

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    State(#[from] ServiceError),
    #[error("listing instances: {0}")]
    Describe(#[from] Ec2Error),
}

impl Classified for RunError {
    fn class(&self) -> ErrorClass {
        match self {
            RunError::State(e) => e.class(),
            RunError::Describe(e) => e.class(),
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
        let clock_now = self.clock.now();
        let last_run = match self.state.last_successful_run().await? {
            // Only this function writes the mark and never past its clock: a later one would
            // silence every schedule until that instant, so it is refused as corrupt.
            Some(recorded) if recorded > clock_now + MAX_AHEAD_OF_CLOCK => {
                return Err(RunError::State(ServiceError::new(
                    "state table",
                    ErrorClass::CorruptState,
                    format!(
                        "the recorded last run {} is after the function's clock ({}); \
                         delete the ec2-scheduler item to start again from the schedule's rate",
                        recorded.to_rfc3339(),
                        clock_now.to_rfc3339()
                    ),
                )));
            }
            Some(recorded) => recorded,
            None => now - self.settings.default_window,
        };
        let window = Window { last_run, now };
        let mut ec2 = Batches::new(&self.ec2, self.settings.batch_size, || deadline.reached());
        let mut stopped_early = None;
        let mut records = Vec::new();
        let mut hours_saved = 0.0;

        let query = InstanceQuery {
            tag_key: Some(SCHEDULE_TAG.to_owned()),
            ..InstanceQuery::default()
        };
        let (instances, complete) = ec2.describe_all(&query).await?;
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
                    change_states(&mut ec2, change, &mut records).await;
                }
                rewrite_tags(&mut ec2, &mut records).await;
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
            ec2.calls,
        );
        if !self.settings.report_unchanged {
            report.actions.retain(DecisionRecord::is_notable);
        }
        if report.complete && !self.settings.dry_run {
            // A run slightly ahead of the clock (within what the trigger accepts) records the
            // clock: the next run covers the difference again rather than a future mark hiding it.
            self.state.record_successful_run(now.min(clock_now)).await?;
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
}

/// Every record whose action is `change`, in batches of ids with EC2's per-instance fallback.
async fn change_states<E: Ec2Port, F: Fn() -> bool>(
    ec2: &mut Batches<'_, E, F>,
    change: StateChange,
    records: &mut [DecisionRecord],
) {
    let targets = records
        .iter()
        .enumerate()
        .filter(|(_, r)| state_change(r.action) == Some(change) && r.outcome == Outcome::Unchanged)
        .map(|(i, r)| (i, r.instance_id.clone()))
        .collect();
    for (i, applied) in ec2.change_state(change, targets).await {
        records[i].outcome = applied.into();
    }
}

/// Invalid values and carried-out one-offs get `#` + their value (and invalid ones a
/// `ScheduleError`). Instances that need the same tags share one CreateTags call.
async fn rewrite_tags<E: Ec2Port, F: Fn() -> bool>(
    ec2: &mut Batches<'_, E, F>,
    records: &mut [DecisionRecord],
) {
    let mut groups: BTreeMap<Vec<(String, String)>, Targets<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if let (true, Some(value)) = (consumes_tag(&r.outcome), &r.rewrite_tag) {
            let mut tags = vec![(SCHEDULE_TAG.to_owned(), value.clone())];
            if let Some(error) = &r.error_tag {
                tags.push((SCHEDULE_ERROR_TAG.to_owned(), error.clone()));
            }
            groups
                .entry(tags)
                .or_default()
                .push((i, r.instance_id.clone()));
        }
    }
    for (tags, targets) in groups {
        for (i, applied) in ec2.create_tags(&tags, targets).await {
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

/// A one-off is consumed (and an invalid value commented) unless the change may still succeed on
/// a later run: transient failures, held terminations and unattempted work keep the tag.
pub(crate) fn consumes_tag(outcome: &Outcome) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_ec2::Ec2ErrorKind;

    /// A run fails with its state table's class or its listing's (the EC2 port's classes are
    /// tested in fleet-ec2).
    #[test]
    fn a_run_error_keeps_its_cause_class() {
        for class in ErrorClass::ALL {
            let state = RunError::State(ServiceError::new("state table", class, "x"));
            assert_eq!(state.class(), class);
        }
        let describe = RunError::Describe(Ec2Error::new(
            Ec2ErrorKind::Throttled,
            "RequestLimitExceeded",
            "slow down",
        ));
        assert_eq!(describe.class(), ErrorClass::Throttled);
        assert_eq!(
            describe.to_string(),
            "listing instances: EC2 RequestLimitExceeded: slow down"
        );
    }
}
