//! One scheduler run: read the window, page through the tagged instances, decide, act in batches,
//! rewrite tags, report. Generic over the ports so the same code runs against EC2, the in-memory
//! fake and the local stand-in.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use crate::decide::{evaluate, fit, Action, Fit, Verdict, Window};
use crate::ports::{
    Ec2Error, Ec2Port, EventLedger, EventShare, InstanceNote, PendingAction, StateChange,
    StateStore,
};
use crate::report::{summarise, DecisionRecord, RunReport};
use crate::trigger::MAX_AHEAD_OF_CLOCK;
use fleet_core::{Classified, Clock, Deadline, ErrorClass, ServiceError};
use fleet_ec2::{Batches, Instance, InstanceQuery, Targets};

pub use fleet_ec2::{CallCounts, Outcome};

pub const SCHEDULE_TAG: &str = "Schedule";
pub const SCHEDULE_ERROR_TAG: &str = "ScheduleError";

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Plan, log and report; change nothing (no EC2 writes, no state table write).
    pub dry_run: bool,
    /// Per scheduled event: Lambda's retries of one event share it.
    pub max_terminations_per_run: usize,
    /// The window used when the state table has no previous run: the schedule's rate.
    pub default_window: Duration,
    /// Instance ids per Start/Stop/Terminate/CreateTags call.
    pub batch_size: usize,
    /// Stop issuing calls when less than this remains before the Lambda deadline.
    pub deadline_margin: Duration,
    /// Keep "nothing to do" decisions in the report too (the CLI's plan shows every instance).
    pub report_unchanged: bool,
    /// How long a due action that was not carried out is retried by later runs.
    pub pending_ttl: Duration,
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
            pending_ttl: Duration::minutes(60),
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
    /// Runs once for the scheduled instant `now`. `event` is the scheduled event it serves (none
    /// for a run by hand); `deadline` is when Lambda would kill the run.
    pub async fn run(
        &self,
        now: DateTime<Utc>,
        event: Option<EventShare<'_>>,
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
        let mut hours_saved = 0.0;
        let mut state_not_saved = None;

        let query = InstanceQuery {
            tag_key: Some(SCHEDULE_TAG.to_owned()),
            ..InstanceQuery::default()
        };
        let (instances, complete) = ec2.describe_all(&query).await?;
        if !complete {
            stopped_early = Some("deadline");
        }
        let ids: Vec<String> = instances.iter().map(|i| i.id.clone()).collect();
        let notes: BTreeMap<String, InstanceNote> = self
            .state
            .notes(&ids)
            .await?
            .into_iter()
            .map(|n| (n.instance_id.clone(), n))
            .collect();
        let mut records = Vec::new();
        for instance in instances {
            let note = notes.get(&instance.id);
            if let Some((record, verdict)) = self.decide(instance, window, note) {
                hours_saved += verdict.hours_saved_per_day;
                records.push(record);
            }
        }

        if stopped_early.is_none() {
            self.cap_terminations(event, &mut records).await?;
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
                // Before the tags: a pending one-off keeps its tag.
                records.iter_mut().for_each(DecisionRecord::settle_pending);
                rewrite_tags(&mut ec2, &mut records).await;
                clear_stale_errors(&mut ec2, &mut records).await;
                // The changes are made: a refused write must not hide them (see `state_not_saved`).
                if let Err(error) = self.save_notes(&records, &notes).await {
                    state_not_saved = Some(error);
                }
            }
        }

        records.iter().for_each(log_decision);
        let mut report = summarise(
            window,
            self.settings.pending_ttl.num_minutes(),
            records,
            hours_saved,
            stopped_early,
            self.settings.dry_run,
            ec2.calls,
        );
        if !self.settings.report_unchanged {
            report.actions.retain(DecisionRecord::is_notable);
        }
        // The window always advances once every instance was decided: what was due and not
        // carried out is a pending action of its instance, so no other instance's past instants
        // are replayed (which would undo manual changes made since).
        if report.complete && !self.settings.dry_run && state_not_saved.is_none() {
            // A run slightly ahead of the clock (within what the trigger accepts) records the
            // clock: the next run covers the difference again rather than a future mark hiding it.
            if let Err(error) = self.state.record_successful_run(now.min(clock_now)).await {
                state_not_saved = Some(error);
            }
        }
        if let Some(error) = &state_not_saved {
            tracing::error!(error = %error, "the state table did not record this run's changes; the run fails and its retry records them");
        }
        report.state_not_saved = state_not_saved;
        tracing::info!(
            complete = report.complete,
            dry_run = report.dry_run,
            instances_seen = report.instances_seen,
            started = report.counts.start,
            stopped = report.counts.stop,
            terminated = report.counts.terminate,
            failed = report.counts.failed,
            pending = report.counts.pending,
            dropped = report.counts.dropped,
            "scheduler run finished"
        );
        Ok(report)
    }

    /// The decision for one listed instance, with what its note remembers (a first sighting, a
    /// pending action). `None` when the instance carries no `Schedule` tag.
    fn decide(
        &self,
        mut instance: Instance,
        window: Window,
        note: Option<&InstanceNote>,
    ) -> Option<(DecisionRecord, Verdict)> {
        let schedule = instance.tags.remove(SCHEDULE_TAG)?;
        let (note, stale) = match note {
            Some(n) if n.schedule == schedule => (Some(n), None),
            other => (None, other),
        };
        let verdict = evaluate(
            &schedule,
            Some(instance.state),
            window,
            note.and_then(|n| n.first_seen),
        );
        let has_error_tag = instance.tags.contains_key(SCHEDULE_ERROR_TAG);
        let mut r = DecisionRecord {
            name: instance.tags.remove("Name"),
            instance_id: instance.id,
            state: instance.state,
            action: verdict.action,
            reason: verdict.reason.clone(),
            rewrite_tag: verdict.rewrite_tag.clone(),
            error_tag: verdict.error_tag.clone(),
            outcome: Outcome::Unchanged,
            valid: verdict.valid,
            attempt: verdict
                .due
                .filter(|_| verdict.action != Action::None || verdict.waits)
                .map(|(action, due_at)| PendingAction {
                    action,
                    due_at,
                    since: window.now,
                }),
            pending: None,
            dropped: None,
            first_seen: verdict
                .one_off
                .then(|| note.and_then(|n| n.first_seen).unwrap_or(window)),
            clear_error_tag: has_error_tag
                && verdict.valid
                && verdict.error_tag.is_none()
                && !schedule.trim_start().starts_with('#'),
            tag_rewritten: false,
            schedule,
        };
        if let Some(p) = stale.and_then(|n| n.pending) {
            r.dropped = Some(format!(
                "pending {} (due {}) dropped: the Schedule tag changed",
                p.action,
                p.due_at.to_rfc3339()
            ));
        }
        if let Some(p) = note.and_then(|n| n.pending) {
            self.carry_pending(&mut r, &verdict, p, window);
        }
        if verdict.waits {
            r.pending = r.attempt;
        }
        Some((r, verdict))
    }

    /// A pending action from an earlier run: superseded by a later due action, expired, or tried
    /// again now.
    fn carry_pending(
        &self,
        r: &mut DecisionRecord,
        verdict: &Verdict,
        p: PendingAction,
        window: Window,
    ) {
        let what = format!("pending {} (due {})", p.action, p.due_at.to_rfc3339());
        if let Some((action, at)) = verdict.due.filter(|(_, at)| *at > p.due_at) {
            r.dropped = Some(format!(
                "{what} dropped: {action} is due at {}",
                at.to_rfc3339()
            ));
            return;
        }
        let ttl = self.settings.pending_ttl;
        if window.now >= p.since + ttl {
            let why = format!(
                "{what} dropped: not carried out within PendingActionTtlMinutes ({} minutes)",
                ttl.num_minutes()
            );
            if r.first_seen.is_some() {
                // The one-off is over: consumed, and the tag says why nothing happened.
                r.rewrite_tag = Some(crate::decide::commented(&r.schedule));
                r.error_tag = Some(
                    why.chars()
                        .take(crate::decide::MAX_TAG_VALUE_CHARS)
                        .collect(),
                );
            }
            r.dropped = Some(why);
            return;
        }
        match fit(p.action, r.state) {
            Fit::Applies => {
                r.action = p.action;
                r.attempt = Some(p);
                r.reason = format!("{what} tried again; instance is {}", r.state);
            }
            Fit::InTransition => {
                r.action = Action::None;
                r.pending = Some(p);
                r.rewrite_tag = None;
                r.reason = format!("{what} waits: instance is {}", r.state);
            }
            Fit::Moot => {
                r.action = Action::None;
                r.reason = format!("{what} no longer needed: instance is {}", r.state);
            }
        }
    }

    /// Terminations beyond what the scheduled event has left under `MaxTerminationsPerRun` are
    /// held (pending). The rest are reserved for this event first, so that no retry of it, nor
    /// a crash after terminating, can exceed the cap.
    async fn cap_terminations(
        &self,
        event: Option<EventShare<'_>>,
        records: &mut [DecisionRecord],
    ) -> Result<(), RunError> {
        let max = self.settings.max_terminations_per_run;
        let used = event.map_or(0, |e| e.actions_used);
        let wanted = records
            .iter()
            .filter(|r| r.action == Action::Terminate)
            .count();
        let mut granted = wanted.min(max.saturating_sub(used));
        if let (Some(event), false, true) = (event, self.settings.dry_run, granted > 0) {
            if !self
                .state
                .ledger()
                .reserve(event.key, used, granted)
                .await?
            {
                // Another attempt of this event reserved meanwhile: hold everything.
                granted = 0;
            }
        }
        for r in records
            .iter_mut()
            .filter(|r| r.action == Action::Terminate)
            .skip(granted)
        {
            r.outcome = Outcome::Held;
            r.rewrite_tag = None;
            r.reason = format!(
                "{}; held: at most {max} terminations per scheduled event",
                r.reason
            );
        }
        Ok(())
    }

    /// Writes the notes that changed: first sightings of one-offs still in force, pending
    /// actions; forgets the ones no longer needed.
    async fn save_notes(
        &self,
        records: &[DecisionRecord],
        before: &BTreeMap<String, InstanceNote>,
    ) -> Result<(), ServiceError> {
        let mut save = Vec::new();
        let mut forget = Vec::new();
        for r in records {
            let wanted = r.note();
            match (&wanted, before.get(&r.instance_id)) {
                (Some(note), Some(old)) if note == old => {}
                (Some(note), _) => save.push(note.clone()),
                (None, Some(_)) => forget.push(r.instance_id.clone()),
                (None, None) => {}
            }
        }
        self.state.save_notes(&save).await?;
        self.state.forget_notes(&forget).await?;
        Ok(())
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
                Outcome::Done => {
                    r.tag_rewritten = true;
                    if r.outcome == Outcome::Unchanged {
                        r.outcome = Outcome::Done;
                    }
                }
                problem if matches!(r.outcome, Outcome::Unchanged | Outcome::Done) => {
                    r.outcome = problem;
                }
                _ => {}
            }
        }
    }
}

/// A `ScheduleError` left from an earlier invalid value is removed once the value is valid again.
async fn clear_stale_errors<E: Ec2Port, F: Fn() -> bool>(
    ec2: &mut Batches<'_, E, F>,
    records: &mut [DecisionRecord],
) {
    let targets: Targets<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.clear_error_tag)
        .map(|(i, r)| (i, r.instance_id.clone()))
        .collect();
    let keys = [SCHEDULE_ERROR_TAG.to_owned()];
    for (i, applied) in ec2.delete_tags(&keys, targets).await {
        let r = &mut records[i];
        match Outcome::from(applied) {
            Outcome::Done => {
                r.reason = format!("{}; stale {SCHEDULE_ERROR_TAG} tag removed", r.reason);
                if r.outcome == Outcome::Unchanged {
                    r.outcome = Outcome::Done;
                }
            }
            problem if matches!(r.outcome, Outcome::Unchanged | Outcome::Done) => {
                r.outcome = problem;
            }
            _ => {}
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
