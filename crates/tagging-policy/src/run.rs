//! One policy run: load the rules, list the instances in scope, assess each, find creators,
//! enforce on untagged instances, write the missing tags in shared calls, report.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use crate::assess::{assess, launched_at, Assessment, UntaggedAction, Violation};
use crate::identity::UNDEFINED;
use crate::ports::{CreatorLookup, EventLedger, EventShare, PolicyState, RuleSource};
use crate::report::{Counts, Enforcement, InstanceRecord, Report};
use crate::rules::Policy;
use fleet_core::{Classified, Clock, Deadline, ErrorClass, ServiceError};
use fleet_ec2::{
    Batches, CallCounts, Ec2Error, Ec2Port, InstanceQuery, InstanceState, Outcome, StateChange,
    Targets,
};

/// CloudTrail's event history covers the last 90 days.
pub const CLOUDTRAIL_HISTORY: Duration = Duration::days(90);

/// EC2 accepts at most 200 values per filter.
const IDS_PER_QUERY: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Plan, look up and report; change nothing.
    pub dry_run: bool,
    pub untagged_action: UntaggedAction,
    pub grace: Duration,
    /// Stops plus terminations per scheduled event (Lambda's retries of it share them); the
    /// rest are held for the next run.
    pub max_enforcements_per_run: usize,
    /// Only instances in these VPCs (empty: every VPC).
    pub vpc_ids: Vec<String>,
    /// Instance ids per CreateTags/Stop/Terminate call.
    pub batch_size: usize,
    /// Stop issuing calls when less than this remains before the Lambda deadline.
    pub deadline_margin: Duration,
    /// CloudTrail lookups (2 a second) stop this much earlier still, so the tags they found are
    /// written in the same run and the next sweep carries on where this one stopped.
    pub write_reserve: Duration,
    /// Keep compliant instances in the report too (the CLI's plan shows every instance).
    pub report_compliant: bool,
    /// Keys no rule may write besides [`crate::rules::ALWAYS_PROTECTED_TAG_KEYS`].
    pub protected_tag_keys: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dry_run: false,
            untagged_action: UntaggedAction::Stop,
            grace: Duration::minutes(15),
            max_enforcements_per_run: 10,
            vpc_ids: Vec::new(),
            batch_size: 100,
            deadline_margin: Duration::seconds(10),
            write_reserve: Duration::seconds(30),
            report_compliant: false,
            protected_tag_keys: Vec::new(),
        }
    }
}

/// What started the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The schedule: every instance in scope.
    Sweep,
    /// A RunInstances call seen by CloudTrail: just those instances, with the caller as creator.
    Launched {
        instance_ids: Vec<String>,
        creator: Option<String>,
    },
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sweep => f.write_str("scheduled sweep"),
            Self::Launched {
                instance_ids,
                creator,
            } => write!(
                f,
                "RunInstances by {} ({} instance{})",
                creator.as_deref().unwrap_or(UNDEFINED),
                instance_ids.len(),
                if instance_ids.len() == 1 { "" } else { "s" }
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    /// The rules table or the state table.
    Table(#[from] ServiceError),
    #[error("listing instances: {0}")]
    Describe(#[from] Ec2Error),
}

impl Classified for RunError {
    fn class(&self) -> ErrorClass {
        match self {
            RunError::Table(e) => e.class(),
            RunError::Describe(e) => e.class(),
        }
    }
}

/// The engine, wired to its ports.
pub struct Engine<E, R, L, C, S> {
    pub ec2: E,
    pub rules: R,
    pub lookup: L,
    pub clock: C,
    pub state: S,
    pub settings: Settings,
}

impl<E: Ec2Port, R: RuleSource, L: CreatorLookup, C: Clock, S: PolicyState> Engine<E, R, L, C, S> {
    /// Runs once, now, by hand (no scheduled event). `deadline_at` is when Lambda would kill it.
    pub async fn run(
        &self,
        trigger: &Trigger,
        deadline_at: Option<DateTime<Utc>>,
    ) -> Result<Report, RunError> {
        self.run_for(trigger, None, deadline_at).await
    }

    /// Runs once, now, for `event`: its retries share its MaxEnforcementsPerRun.
    pub async fn run_for(
        &self,
        trigger: &Trigger,
        event: Option<EventShare<'_>>,
        deadline_at: Option<DateTime<Utc>>,
    ) -> Result<Report, RunError> {
        let now = self.clock.now();
        let deadline = Deadline::new(&self.clock, deadline_at, self.settings.deadline_margin);
        let policy = Policy::from_rows(self.rules.load().await?, &self.settings.protected_tag_keys);
        for p in &policy.problems {
            tracing::warn!(rule_id = %p.rule_id, reason = %p.reason, "rule skipped");
        }
        let mut ec2 = Batches::new(&self.ec2, self.settings.batch_size, || deadline.reached());
        let (instances, mut stopped_early) = self.list(trigger, &mut ec2).await?;
        let not_in_scope = match trigger {
            Trigger::Launched { instance_ids, .. } if stopped_early.is_none() => instance_ids
                .iter()
                .filter(|id| !instances.iter().any(|i| &i.id == *id))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        let first_seen = self.first_sightings(&instances, now).await?;
        let mut records: Vec<InstanceRecord> = instances
            .into_iter()
            .map(|instance| {
                let mut record = InstanceRecord {
                    instance_id: instance.id.clone(),
                    name: instance.name().map(str::to_owned),
                    state: instance.state,
                    launched_at: launched_at(&instance),
                    created_at: instance.created_at,
                    in_grace_until: None,
                    untagged: None,
                    violations: Vec::new(),
                };
                let seen = first_seen.get(&instance.id).copied();
                match assess(&instance, &policy.rules, self.settings.grace, now, seen) {
                    Assessment::InGrace { until } => record.in_grace_until = Some(until),
                    Assessment::Untagged => {
                        record.untagged = Some(self.enforcement(instance.state));
                    }
                    Assessment::Checked { violations } => record.violations = violations,
                }
                record
            })
            .collect();

        let mut lookups = 0;
        if stopped_early.is_none() {
            let lookup_deadline = Deadline::new(
                &self.clock,
                deadline_at,
                self.settings.deadline_margin + self.settings.write_reserve,
            );
            lookups = self
                .resolve_creators(trigger, &mut records, now, &lookup_deadline)
                .await;
            self.enforce(&mut records, &mut ec2, event).await?;
            self.write_tags(&mut records, &mut ec2).await;
            if records
                .iter()
                .flat_map(InstanceRecord::outcomes)
                .any(|o| *o == Outcome::NotAttempted)
            {
                stopped_early = Some("deadline");
            }
        }
        records.iter().for_each(log_instance);
        let report = self.summarise(
            now,
            trigger,
            policy,
            records,
            not_in_scope,
            stopped_early,
            ec2.calls,
            lookups,
        );
        tracing::info!(
            trigger = %report.trigger,
            complete = report.complete,
            dry_run = report.dry_run,
            checked = report.counts.instances_checked,
            violations = report.counts.violations,
            tags_set = report.counts.tags_set,
            untagged = report.counts.untagged,
            failed = report.counts.failed,
            "tagging policy run finished"
        );
        Ok(report)
    }

    /// When the policy first saw each untagged instance whose launch time EC2 does not give;
    /// the ones seen for the first time now are recorded (not in a dry run).
    async fn first_sightings(
        &self,
        instances: &[fleet_ec2::Instance],
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, DateTime<Utc>>, RunError> {
        let unknown: Vec<String> = instances
            .iter()
            .filter(|i| i.tags.is_empty() && launched_at(i).is_none())
            .map(|i| i.id.clone())
            .collect();
        if unknown.is_empty() {
            return Ok(BTreeMap::new());
        }
        let mut seen = self.state.first_seen(&unknown).await?;
        let new: Vec<(String, DateTime<Utc>)> = unknown
            .into_iter()
            .filter(|id| !seen.contains_key(id))
            .map(|id| (id, now))
            .collect();
        if !new.is_empty() && !self.settings.dry_run {
            self.state.record_first_seen(&new).await?;
        }
        seen.extend(new);
        Ok(seen)
    }

    async fn list<F: Fn() -> bool>(
        &self,
        trigger: &Trigger,
        ec2: &mut Batches<'_, E, F>,
    ) -> Result<(Vec<fleet_ec2::Instance>, Option<&'static str>), Ec2Error> {
        let scope = InstanceQuery {
            vpc_ids: self.settings.vpc_ids.clone(),
            ..InstanceQuery::default()
        };
        let queries: Vec<InstanceQuery> = match trigger {
            Trigger::Sweep => vec![scope],
            Trigger::Launched { instance_ids, .. } => instance_ids
                .chunks(IDS_PER_QUERY)
                .map(|ids| InstanceQuery {
                    instance_ids: ids.to_vec(),
                    ..scope.clone()
                })
                .collect(),
        };
        let mut instances = Vec::new();
        for query in &queries {
            let (read, complete) = ec2.describe_all(query).await?;
            instances.extend(read);
            if !complete {
                return Ok((instances, Some("deadline")));
            }
        }
        Ok((instances, None))
    }

    fn enforcement(&self, state: InstanceState) -> Enforcement {
        use InstanceState::*;
        let action = self.settings.untagged_action;
        let (change, note) = match (action, state) {
            (UntaggedAction::Notify, _) => (None, "reported only (UntaggedAction=notify)"),
            (UntaggedAction::Stop, Running) => (Some(StateChange::Stop), "the owner must tag it"),
            (UntaggedAction::Stop, Pending) => (None, "still pending; stopped on a later run"),
            (UntaggedAction::Stop, _) => (None, "already stopped or stopping"),
            (UntaggedAction::Terminate, ShuttingDown | Terminated) => (None, "already terminating"),
            (UntaggedAction::Terminate, _) => (
                Some(StateChange::Terminate),
                "untagged instances are not allowed",
            ),
        };
        Enforcement {
            action,
            note: note.to_owned(),
            outcome: Outcome::Unchanged,
            change,
        }
    }

    /// Fills in `UserLookup` values: from the RunInstances event when that triggered the run,
    /// otherwise from CloudTrail (once per instance; none for launches older than its history).
    /// Returns the number of lookups made.
    async fn resolve_creators(
        &self,
        trigger: &Trigger,
        records: &mut [InstanceRecord],
        now: DateTime<Utc>,
        deadline: &Deadline<'_, C>,
    ) -> usize {
        let from_event = match trigger {
            Trigger::Launched {
                creator: Some(c), ..
            } => Some(c.as_str()),
            _ => None,
        };
        let mut lookups = 0;
        for record in records.iter_mut() {
            if !record.violations.iter().any(Violation::awaits_creator) {
                continue;
            }
            let found: Result<(String, String), Outcome> = if let Some(who) = from_event {
                Ok((who.to_owned(), "from the RunInstances event".to_owned()))
            } else if record
                .launched_at
                .is_some_and(|t| now - t > CLOUDTRAIL_HISTORY)
            {
                Ok((
                    UNDEFINED.to_owned(),
                    "launched before CloudTrail's 90-day event history".to_owned(),
                ))
            } else if deadline.reached() {
                Err(Outcome::NotAttempted)
            } else {
                lookups += 1;
                match self
                    .lookup
                    .launched_by(&record.instance_id, record.created_at)
                    .await
                {
                    Ok(Some(who)) => Ok((who, "RunInstances caller in CloudTrail".to_owned())),
                    Ok(None) => Ok((
                        UNDEFINED.to_owned(),
                        "no RunInstances event for it in CloudTrail".to_owned(),
                    )),
                    Err(e) => {
                        tracing::warn!(instance_id = %record.instance_id, code = %e.code, "creator lookup failed");
                        Err(Outcome::Failed {
                            code: e.code,
                            message: e.message,
                            transient: e.transient,
                        })
                    }
                }
            };
            for v in record.violations.iter_mut().filter(|v| v.awaits_creator()) {
                match &found {
                    Ok((who, detail)) => {
                        v.value = Some(who.clone());
                        v.detail = detail.clone();
                    }
                    Err(outcome) => v.outcome = outcome.clone(),
                }
            }
        }
        lookups
    }

    /// Stops or terminates the untagged instances that are still untagged and in the state the
    /// decision assumed, within what the event has left of MaxEnforcementsPerRun (reserved
    /// first, so that no retry of it can exceed the cap).
    async fn enforce<F: Fn() -> bool>(
        &self,
        records: &mut [InstanceRecord],
        ec2: &mut Batches<'_, E, F>,
        event: Option<EventShare<'_>>,
    ) -> Result<(), RunError> {
        if !self.settings.dry_run {
            self.recheck(records, ec2).await?;
        }
        let max = self.settings.max_enforcements_per_run;
        let used = event.map_or(0, |e| e.actions_used);
        let wanted = records
            .iter()
            .filter(|r| r.untagged.as_ref().is_some_and(|e| e.change.is_some()))
            .count();
        let mut budget = wanted.min(max.saturating_sub(used));
        if let (Some(event), false, true) = (event, self.settings.dry_run, budget > 0) {
            if !self.state.ledger().reserve(event.key, used, budget).await? {
                // Another attempt of this event reserved meanwhile: hold everything.
                budget = 0;
            }
        }
        let mut queued: BTreeMap<StateChange, Vec<(usize, String)>> = BTreeMap::new();
        for (i, record) in records.iter_mut().enumerate() {
            let Some(e) = record.untagged.as_mut() else {
                continue;
            };
            let Some(change) = e.change else { continue };
            if budget == 0 {
                e.outcome = Outcome::Held;
                continue;
            }
            budget -= 1;
            if self.settings.dry_run {
                e.outcome = Outcome::Planned;
            } else {
                queued
                    .entry(change)
                    .or_default()
                    .push((i, record.instance_id.clone()));
            }
        }
        for (change, targets) in queued {
            for (i, applied) in ec2.change_state(change, targets).await {
                if let Some(e) = records[i].untagged.as_mut() {
                    e.outcome = applied.into();
                }
            }
        }
        Ok(())
    }

    /// Lookups can take minutes after the listing: right before stopping or terminating, the
    /// instances are read again (one DescribeInstances per 200) and an instance that was tagged,
    /// changed state or went away meanwhile is left alone.
    async fn recheck<F: Fn() -> bool>(
        &self,
        records: &mut [InstanceRecord],
        ec2: &mut Batches<'_, E, F>,
    ) -> Result<(), Ec2Error> {
        let ids: Vec<String> = records
            .iter()
            .filter(|r| r.untagged.as_ref().is_some_and(|e| e.change.is_some()))
            .map(|r| r.instance_id.clone())
            .collect();
        let mut fresh = BTreeMap::new();
        let mut complete = true;
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let query = InstanceQuery {
                instance_ids: chunk.to_vec(),
                vpc_ids: self.settings.vpc_ids.clone(),
                ..InstanceQuery::default()
            };
            let (read, all) = ec2.describe_all(&query).await?;
            fresh.extend(read.into_iter().map(|i| (i.id.clone(), i)));
            complete &= all;
        }
        for r in records.iter_mut() {
            let Some(e) = r.untagged.as_mut().filter(|e| e.change.is_some()) else {
                continue;
            };
            let left_alone = match fresh.get(&r.instance_id) {
                Some(i) if i.tags.is_empty() && i.state == r.state => continue,
                Some(i) if !i.tags.is_empty() => {
                    "tagged since it was listed: left alone".to_owned()
                }
                Some(i) => format!("{} since it was listed as {}: left alone", i.state, r.state),
                None if !complete => {
                    e.outcome = Outcome::NotAttempted;
                    "not read again before the deadline".to_owned()
                }
                None => "gone since it was listed: left alone".to_owned(),
            };
            e.change = None;
            e.note = left_alone;
        }
        Ok(())
    }

    /// One CreateTags call per (key, value) for every instance that needs it.
    async fn write_tags<F: Fn() -> bool>(
        &self,
        records: &mut [InstanceRecord],
        ec2: &mut Batches<'_, E, F>,
    ) {
        let mut groups: BTreeMap<(String, String), Targets<(usize, usize)>> = BTreeMap::new();
        for (i, record) in records.iter_mut().enumerate() {
            for (j, v) in record.violations.iter_mut().enumerate() {
                let Some(value) = &v.value else { continue };
                if v.outcome != Outcome::Unchanged {
                    continue;
                }
                if self.settings.dry_run {
                    v.outcome = Outcome::Planned;
                } else {
                    groups
                        .entry((v.tag_key.clone(), value.clone()))
                        .or_default()
                        .push(((i, j), record.instance_id.clone()));
                }
            }
        }
        for (tag, targets) in groups {
            for ((i, j), applied) in ec2.create_tags(&[tag], targets).await {
                records[i].violations[j].outcome = applied.into();
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn summarise(
        &self,
        at: DateTime<Utc>,
        trigger: &Trigger,
        policy: Policy,
        mut records: Vec<InstanceRecord>,
        not_in_scope: Vec<String>,
        stopped_early: Option<&'static str>,
        ec2_calls: CallCounts,
        cloudtrail_lookups: usize,
    ) -> Report {
        let mut c = Counts {
            instances_checked: records.len(),
            ..Counts::default()
        };
        for r in &records {
            c.compliant += usize::from(r.is_compliant());
            c.in_grace += usize::from(r.in_grace_until.is_some());
            c.violations += r.violations.len();
            for v in &r.violations {
                let written = matches!(v.outcome, Outcome::Done | Outcome::Planned);
                c.tags_set += usize::from(written);
                c.creators_undefined +=
                    usize::from(written && v.value.as_deref() == Some(UNDEFINED));
            }
            if let Some(e) = &r.untagged {
                c.untagged += 1;
                let carried_out = matches!(e.outcome, Outcome::Done | Outcome::Planned);
                match (e.change, carried_out) {
                    (Some(StateChange::Stop), true) => c.stopped += 1,
                    (Some(StateChange::Terminate), true) => c.terminated += 1,
                    _ => {}
                }
            }
            for o in r.outcomes() {
                match o {
                    Outcome::Protected { .. } => c.protected += 1,
                    Outcome::Failed { .. } => c.failed += 1,
                    Outcome::Held => c.held += 1,
                    Outcome::NotAttempted => c.not_attempted += 1,
                    _ => {}
                }
            }
        }
        if !self.settings.report_compliant {
            records.retain(|r| !r.is_compliant());
        }
        let mut report = Report {
            at,
            trigger: trigger.to_string(),
            dry_run: self.settings.dry_run,
            complete: stopped_early.is_none(),
            stopped_early,
            rules_applied: policy.rules.len(),
            rule_problems: policy.problems,
            counts: c,
            instances: records,
            not_in_scope,
            ec2_calls,
            cloudtrail_lookups,
        };
        report.complete = report.complete && !report.has_transient_failures();
        report
    }
}

/// One JSON line per instance with something to say (compliant ones at DEBUG).
fn log_instance(r: &InstanceRecord) {
    if r.is_compliant() {
        tracing::debug!(instance_id = %r.instance_id, "compliant");
        return;
    }
    if let Some(until) = r.in_grace_until {
        tracing::info!(instance_id = %r.instance_id, until = %until, "untagged, in grace period");
    }
    if let Some(e) = &r.untagged {
        tracing::info!(instance_id = %r.instance_id, state = %r.state, action = %e.action, outcome = e.outcome.name(), note = %e.note, "untagged");
    }
    for v in &r.violations {
        tracing::info!(
            instance_id = %r.instance_id,
            rule_id = v.rule_id,
            tag_key = %v.tag_key,
            action = v.action,
            value = v.value.as_deref().unwrap_or(""),
            outcome = v.outcome.name(),
            "violation"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::LookupError;
    use fleet_ec2::Ec2ErrorKind;

    /// A run fails with its rules table's class or its listing's; a lookup failure (reported per
    /// instance) has the class of CloudTrail's code.
    #[test]
    fn errors_have_their_class() {
        let rules = RunError::Table(ServiceError::new(
            "rules table",
            ErrorClass::NotFound,
            "ResourceNotFoundException: no table",
        ));
        assert_eq!(rules.class(), ErrorClass::NotFound);
        let denied = RunError::Describe(Ec2Error::new(
            Ec2ErrorKind::Denied,
            "UnauthorizedOperation",
            "no",
        ));
        assert_eq!(denied.class(), ErrorClass::AccessDenied);
        let lookup = |code: &str, transient| LookupError {
            code: code.to_owned(),
            message: "m".to_owned(),
            transient,
        };
        assert_eq!(
            lookup("ThrottlingException", true).class(),
            ErrorClass::Throttled
        );
        assert_eq!(
            lookup("AccessDeniedException", false).class(),
            ErrorClass::AccessDenied
        );
        assert_eq!(lookup("NoErrorCode", true).class(), ErrorClass::Unavailable);
        assert_eq!(lookup("TooManyEvents", false).class(), ErrorClass::Internal);
    }
}
