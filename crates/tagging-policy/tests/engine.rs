//! Domain tests of whole runs against the in-memory EC2, rules and CloudTrail fakes: every branch
//! of the policy's semantics, batching, the enforcement cap, dry run, the deadline, the report.

use chrono::{DateTime, Duration, Utc};
use fleet_core::{Clock, FixedClock, RunSummary};
use fleet_ec2::{FakeInstance, InMemoryEc2, InstanceState, Outcome};
use tagging_policy::memory::{FakeLookup, MemoryPolicyState, MemoryRules};
use tagging_policy::ports::LookupError;
use tagging_policy::rules::{seed_rows, Field, RuleRow};
use tagging_policy::{Engine, Problem, Report, Settings, Trigger, UntaggedAction};
use InstanceState::*;

const NOW: &str = "2026-11-23T09:00:00Z";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    at(NOW)
}

/// An instance launched a day ago.
fn instance(id: &str, state: InstanceState, tags: &[(&str, &str)]) -> FakeInstance {
    FakeInstance::new(id, state, tags).launched(now() - Duration::days(1))
}

type TestEngine = Engine<InMemoryEc2, MemoryRules, FakeLookup, FixedClock, MemoryPolicyState>;

fn engine(instances: Vec<FakeInstance>, lookup: FakeLookup, settings: Settings) -> TestEngine {
    Engine {
        ec2: InMemoryEc2::new(instances, 1000),
        rules: MemoryRules(seed_rows()),
        lookup,
        clock: FixedClock::at(now()),
        state: MemoryPolicyState::default(),
        settings,
    }
}

async fn sweep(e: &TestEngine) -> Report {
    e.run(&Trigger::Sweep, None).await.unwrap()
}

fn tag(e: &TestEngine, id: &str, key: &str) -> Option<String> {
    e.ec2.instance(id).unwrap().tags.get(key).cloned()
}

fn state(e: &TestEngine, id: &str) -> InstanceState {
    e.ec2.instance(id).unwrap().state
}

#[tokio::test]
async fn missing_and_empty_values_get_the_rules_values_and_present_ones_are_kept() {
    let e = engine(
        vec![
            instance("i-missing", Running, &[("Name", "web")]),
            instance(
                "i-empty",
                Running,
                &[("ProjectCode", " "), ("CreatedBy", ""), ("Expires", "")],
            ),
            instance(
                "i-set",
                Running,
                &[
                    ("ProjectCode", "Apollo"),
                    ("CreatedBy", "zoe"),
                    ("Expires", "2027-01-01"),
                ],
            ),
        ],
        FakeLookup::new([("i-missing", "alice"), ("i-empty", "Deployer/ci")]),
        Settings::default(),
    );
    let report = sweep(&e).await;

    assert_eq!(
        tag(&e, "i-missing", "ProjectCode").as_deref(),
        Some("Proj007")
    );
    assert_eq!(tag(&e, "i-missing", "CreatedBy").as_deref(), Some("alice"));
    assert_eq!(
        tag(&e, "i-missing", "Expires"),
        None,
        "Required=N: a missing tag is fine"
    );
    assert_eq!(
        tag(&e, "i-empty", "ProjectCode").as_deref(),
        Some("Proj007")
    );
    assert_eq!(
        tag(&e, "i-empty", "CreatedBy").as_deref(),
        Some("Deployer/ci")
    );
    assert_eq!(
        tag(&e, "i-empty", "Expires").as_deref(),
        Some("2026-11-23"),
        "Required=N: an empty value is a violation"
    );
    assert_eq!(
        tag(&e, "i-set", "ProjectCode").as_deref(),
        Some("Apollo"),
        "never overwritten"
    );
    assert_eq!(tag(&e, "i-set", "CreatedBy").as_deref(), Some("zoe"));

    assert_eq!(report.counts.instances_checked, 3);
    assert_eq!(report.counts.compliant, 1);
    assert_eq!(report.counts.violations, 5);
    assert_eq!(report.counts.tags_set, 5);
    let missing = report
        .instances
        .iter()
        .find(|r| r.instance_id == "i-missing")
        .unwrap();
    let problems: Vec<(&str, Problem)> = missing
        .violations
        .iter()
        .map(|v| (v.tag_key.as_str(), v.problem))
        .collect();
    assert_eq!(
        problems,
        [
            ("ProjectCode", Problem::Missing),
            ("CreatedBy", Problem::Missing)
        ]
    );
    assert!(
        report.instances.iter().all(|r| r.instance_id != "i-set"),
        "compliant instances are not listed"
    );
    // A lookup only for instances that need a creator.
    let looked_up: Vec<String> = e.lookup.calls().into_iter().map(|(id, _)| id).collect();
    assert_eq!(looked_up, ["i-empty", "i-missing"]);
    assert!(report.has_news());
    assert!(report.complete);
}

#[tokio::test]
async fn one_create_tags_call_per_key_and_value_for_all_instances() {
    let instances: Vec<FakeInstance> = (0..250)
        .map(|n| instance(&format!("i-{n:05}"), Running, &[("Name", "x")]))
        .collect();
    let creators: Vec<(String, &str)> = (0..250)
        .map(|n| {
            (
                format!("i-{n:05}"),
                if n % 2 == 0 { "alice" } else { "bob" },
            )
        })
        .collect();
    let e = engine(
        instances,
        FakeLookup::new(creators.iter().map(|(id, who)| (id.as_str(), *who))),
        Settings::default(),
    );
    let report = sweep(&e).await;
    assert_eq!(report.counts.tags_set, 500);
    // ProjectCode=Proj007: 250 ids in batches of 100 → 3 calls; CreatedBy=alice and =bob: 125
    // each → 2 + 2 calls.
    assert_eq!(e.ec2.calls().create_tags, 7);
    assert_eq!(report.ec2_calls.create_tags, 7);
    assert_eq!(tag(&e, "i-00001", "CreatedBy").as_deref(), Some("bob"));
}

#[tokio::test]
async fn creator_lookup_branches() {
    let old = FakeInstance::new("i-old", Running, &[("Name", "legacy")])
        .launched(now() - Duration::days(200));
    let e = engine(
        vec![
            old,
            instance("i-found", Running, &[("Name", "a")]),
            instance("i-nobody", Running, &[("Name", "b")]),
        ],
        FakeLookup::new([("i-found", "root"), ("i-old", "never-asked")]),
        Settings::default(),
    );
    let report = sweep(&e).await;
    assert_eq!(tag(&e, "i-found", "CreatedBy").as_deref(), Some("root"));
    assert_eq!(
        tag(&e, "i-nobody", "CreatedBy").as_deref(),
        Some("Undefined")
    );
    assert_eq!(tag(&e, "i-old", "CreatedBy").as_deref(), Some("Undefined"));
    assert_eq!(report.counts.creators_undefined, 2);
    let calls = e.lookup.calls();
    assert!(
        calls.iter().all(|(id, _)| id != "i-old"),
        "past CloudTrail's 90 days: no lookup"
    );
    assert_eq!(
        calls.iter().find(|(id, _)| id == "i-found").unwrap().1,
        Some(now() - Duration::days(1)),
        "the original launch narrows the search"
    );
    let text = report.to_text();
    assert!(text.contains("CreatedBy missing → set \"Undefined\" (rule 2, UserLookup: no RunInstances event for it in CloudTrail): done"), "{text}");
    assert!(
        text.contains("launched before CloudTrail's 90-day event history"),
        "{text}"
    );
}

#[tokio::test]
async fn a_failed_lookup_writes_nothing_for_that_tag_and_is_retried() {
    let e = engine(
        vec![instance("i-1", Running, &[("Name", "a")])],
        FakeLookup::failing(LookupError {
            code: "ThrottlingException".into(),
            message: "Rate exceeded".into(),
            transient: true,
        }),
        Settings::default(),
    );
    let report = sweep(&e).await;
    assert_eq!(
        tag(&e, "i-1", "CreatedBy"),
        None,
        "never Undefined on a failed lookup"
    );
    assert_eq!(
        tag(&e, "i-1", "ProjectCode").as_deref(),
        Some("Proj007"),
        "the other rules still apply"
    );
    assert!(report.has_transient_failures());
    assert!(!report.complete);
    assert_eq!(report.counts.failed, 1);
    assert!(report.to_text().contains("CreatedBy missing → not set (rule 2, UserLookup: who launched it): FAILED ThrottlingException: Rate exceeded"));
}

#[tokio::test]
async fn launched_instances_take_their_creator_from_the_event() {
    let e = engine(
        vec![
            instance("i-new", Pending, &[("Name", "build")]),
            instance("i-other", Running, &[("Name", "untouched")]),
        ],
        FakeLookup::default(),
        Settings::default(),
    );
    let trigger = Trigger::Launched {
        instance_ids: vec!["i-new".into(), "i-not-yet-visible".into()],
        creator: Some("Deployer/ci-deploy-4711".into()),
    };
    let report = e.run(&trigger, None).await.unwrap();
    assert_eq!(
        tag(&e, "i-new", "CreatedBy").as_deref(),
        Some("Deployer/ci-deploy-4711")
    );
    assert_eq!(
        tag(&e, "i-other", "ProjectCode"),
        None,
        "only the launched instances"
    );
    assert!(e.lookup.calls().is_empty(), "no lookup needed");
    assert_eq!(report.not_in_scope, ["i-not-yet-visible"]);
    assert_eq!(
        report.trigger,
        "RunInstances by Deployer/ci-deploy-4711 (2 instances)"
    );
}

#[tokio::test]
async fn a_failed_run_instances_call_launched_nothing_and_lists_nothing() {
    let e = engine(
        vec![instance("i-1", Running, &[])],
        FakeLookup::default(),
        Settings::default(),
    );
    let trigger = Trigger::Launched {
        instance_ids: vec![],
        creator: Some("alice".into()),
    };
    let report = e.run(&trigger, None).await.unwrap();
    assert_eq!(e.ec2.calls().describe, 0);
    assert_eq!(report.counts.instances_checked, 0);
    assert!(!report.has_news());
}

#[tokio::test]
async fn untagged_instances_get_the_untagged_action_after_their_grace_period() {
    let fresh = FakeInstance::new("i-fresh", Running, &[]).launched(now() - Duration::minutes(5));
    let mut protected = instance("i-protected", Running, &[]);
    protected.termination_protected = true;
    let cases = [
        (UntaggedAction::Stop, "i-running", Stopped),
        (UntaggedAction::Stop, "i-stopped", Stopped),
        (UntaggedAction::Terminate, "i-running", Terminated),
        (UntaggedAction::Terminate, "i-stopped", Terminated),
        (UntaggedAction::Notify, "i-running", Running),
    ];
    for (action, id, expected) in cases {
        let e = engine(
            vec![
                fresh.clone(),
                instance("i-running", Running, &[]),
                instance("i-stopped", Stopped, &[]),
            ],
            FakeLookup::default(),
            Settings {
                untagged_action: action,
                ..Settings::default()
            },
        );
        let report = sweep(&e).await;
        assert_eq!(state(&e, id), expected, "{action} {id}");
        assert_eq!(state(&e, "i-fresh"), Running, "in grace");
        assert_eq!(
            tag(&e, "i-running", "ProjectCode"),
            None,
            "rules do not tag untagged instances"
        );
        assert_eq!(report.counts.in_grace, 1);
        assert_eq!(report.counts.untagged, 2);
        assert!(e.lookup.calls().is_empty());
    }
    // Termination protection is reported, not fatal.
    let e = engine(
        vec![protected, instance("i-running", Running, &[])],
        FakeLookup::default(),
        Settings {
            untagged_action: UntaggedAction::Terminate,
            ..Settings::default()
        },
    );
    let report = sweep(&e).await;
    assert_eq!(state(&e, "i-running"), Terminated);
    assert_eq!(state(&e, "i-protected"), Running);
    assert_eq!(report.counts.protected, 1);
    assert_eq!(report.counts.terminated, 1);
    assert!(report.complete);
    let text = report.to_text();
    assert!(text.contains("i-protected (no Name) running:\n  no tags at all → terminate: protected: The instance 'i-protected' may not be terminated."), "{text}");
}

#[tokio::test]
async fn at_most_max_enforcements_per_run() {
    let instances: Vec<FakeInstance> = (0..5)
        .map(|n| instance(&format!("i-{n}"), Running, &[]))
        .collect();
    let e = engine(
        instances,
        FakeLookup::default(),
        Settings {
            max_enforcements_per_run: 2,
            ..Settings::default()
        },
    );
    let report = sweep(&e).await;
    let stopped = (0..5)
        .filter(|n| state(&e, &format!("i-{n}")) == Stopped)
        .count();
    assert_eq!(stopped, 2);
    assert_eq!(report.counts.stopped, 2);
    assert_eq!(report.counts.held, 3);
    assert!(report
        .to_text()
        .contains("held: MaxEnforcementsPerRun reached"));
}

#[tokio::test]
async fn vpc_scope() {
    let e = engine(
        vec![
            instance("i-in", Running, &[("Name", "a")]).in_vpc("vpc-1"),
            instance("i-out", Running, &[("Name", "b")]).in_vpc("vpc-2"),
        ],
        FakeLookup::new([("i-in", "alice"), ("i-out", "bob")]),
        Settings {
            vpc_ids: vec!["vpc-1".into()],
            ..Settings::default()
        },
    );
    let report = sweep(&e).await;
    assert_eq!(report.counts.instances_checked, 1);
    assert_eq!(tag(&e, "i-in", "ProjectCode").as_deref(), Some("Proj007"));
    assert_eq!(tag(&e, "i-out", "ProjectCode"), None);
}

#[tokio::test]
async fn dry_run_reports_the_same_and_changes_nothing() {
    let fleet = || {
        vec![
            instance("i-1", Running, &[("Name", "a")]),
            instance("i-2", Running, &[]),
        ]
    };
    let dry = engine(
        fleet(),
        FakeLookup::new([("i-1", "alice")]),
        Settings {
            dry_run: true,
            ..Settings::default()
        },
    );
    let report = sweep(&dry).await;
    assert_eq!(
        dry.ec2.calls().create_tags + dry.ec2.calls().change_state,
        0
    );
    assert_eq!(tag(&dry, "i-1", "ProjectCode"), None);
    assert_eq!(state(&dry, "i-2"), Running);
    assert_eq!(report.counts.tags_set, 2);
    assert_eq!(report.counts.stopped, 1);
    assert!(report
        .instances
        .iter()
        .flat_map(|r| &r.violations)
        .all(|v| v.outcome == Outcome::Planned));
    let text = report.to_text();
    assert!(text.starts_with("Tagging policy run at 2026-11-23T09:00:00Z (scheduled sweep) — DRY RUN, nothing was changed\n"), "{text}");

    let wet = engine(
        fleet(),
        FakeLookup::new([("i-1", "alice")]),
        Settings::default(),
    );
    let done = sweep(&wet).await;
    assert_eq!(done.counts, report.counts, "the same findings");
}

#[tokio::test]
async fn bad_rules_are_reported_and_the_others_still_run() {
    let mut e = engine(
        vec![instance(
            "i-1",
            Running,
            &[("Name", "a"), ("CreatedBy", "zoe")],
        )],
        FakeLookup::default(),
        Settings::default(),
    );
    e.rules.0.push(RuleRow {
        rule_id: Field::text("4"),
        tag_key: Field::text("Owner"),
        action: Field::text("Delete"),
        required: Field::text("Y"),
        default: Field::Absent,
    });
    let report = sweep(&e).await;
    assert_eq!(report.rules_applied, 3);
    assert_eq!(report.rule_problems.len(), 1);
    assert_eq!(tag(&e, "i-1", "ProjectCode").as_deref(), Some("Proj007"));
    assert!(report
        .to_text()
        .contains("Rule 4 skipped: unknown action \"Delete\""));
}

#[tokio::test]
async fn nothing_to_report_when_all_is_compliant() {
    let e = engine(
        vec![
            instance("i-1", Running, &[("ProjectCode", "A"), ("CreatedBy", "b")]),
            FakeInstance::new("i-new", Running, &[]).launched(now() - Duration::minutes(1)),
        ],
        FakeLookup::default(),
        Settings::default(),
    );
    let report = sweep(&e).await;
    assert!(
        !report.has_news(),
        "a compliant fleet (and one instance in grace) sends nothing"
    );
    assert_eq!(report.counts.compliant, 1);
    assert_eq!(e.ec2.calls().create_tags, 0);
}

#[tokio::test]
async fn throttled_writes_are_transient_failures() {
    let e = engine(
        vec![instance("i-1", Running, &[("CreatedBy", "zoe")])],
        FakeLookup::default(),
        Settings::default(),
    );
    e.ec2.throttle_next_writes(1);
    let report = sweep(&e).await;
    assert!(report.has_transient_failures());
    assert!(!report.complete);
    assert_eq!(tag(&e, "i-1", "ProjectCode"), None);
}

#[tokio::test]
async fn the_deadline_stops_the_run_before_any_call() {
    let e = engine(
        vec![instance("i-1", Running, &[("Name", "a")])],
        FakeLookup::default(),
        Settings::default(),
    );
    let report = e
        .run(&Trigger::Sweep, Some(now() + Duration::seconds(5)))
        .await
        .unwrap();
    assert_eq!(report.stopped_early, Some("deadline"));
    assert!(!report.complete);
    assert!(report.has_news(), "an incomplete run is reported");
    assert_eq!(e.ec2.calls().describe, 0);
}

#[tokio::test]
async fn the_report_lists_each_violation_and_action_per_instance() {
    let e = engine(
        vec![
            instance("i-a", Running, &[("Name", "web"), ("Expires", "")]),
            instance("i-b", Running, &[]),
        ],
        FakeLookup::new([("i-a", "alice")]),
        Settings::default(),
    );
    let report = sweep(&e).await;
    let expected = "\
Tagging policy run at 2026-11-23T09:00:00Z (scheduled sweep)
Instances checked: 2, compliant 0, violations 3, tags set 3, creators undefined 0, untagged 1 (stopped 1, terminated 0, protected 0, held 0), failed 0, not attempted 0, in grace 0

i-a (web) running:
  ProjectCode missing → set \"Proj007\" (rule 1, Update: the rule's Default): done
  CreatedBy missing → set \"alice\" (rule 2, UserLookup: RunInstances caller in CloudTrail): done
  Expires empty → set \"2026-11-23\" (rule 3, Function: today() at 2026-11-23T09:00:00Z): done
i-b (no Name) running:
  no tags at all → stop: done; the owner must tag it
";
    assert_eq!(report.to_text(), expected);
    assert_eq!(report.subject(), "Tagging policy report");
}

/// CloudTrail at its real pace: every lookup takes a second of the engine's clock.
struct SlowLookup<'a> {
    clock: &'a FixedClock,
    creators: FakeLookup,
}

impl tagging_policy::ports::CreatorLookup for SlowLookup<'_> {
    async fn launched_by(
        &self,
        instance_id: &str,
        launched_at: Option<DateTime<Utc>>,
    ) -> Result<Option<String>, LookupError> {
        self.clock.advance(Duration::seconds(1));
        self.creators.launched_by(instance_id, launched_at).await
    }
}

#[tokio::test]
async fn lookups_stop_early_enough_for_their_tags_to_be_written_and_the_next_sweep_continues() {
    let clock = FixedClock::at(now());
    let ids: Vec<String> = (0..100).map(|n| format!("i-{n:03}")).collect();
    let e = Engine {
        ec2: InMemoryEc2::new(
            ids.iter().map(|id| instance(id, Running, &[("Name", "x")])),
            1000,
        ),
        rules: MemoryRules(seed_rows()),
        lookup: SlowLookup {
            clock: &clock,
            creators: FakeLookup::new(ids.iter().map(|id| (id.as_str(), "alice"))),
        },
        clock: &clock,
        state: MemoryPolicyState::default(),
        settings: Settings::default(), // 10 s margin + 30 s kept for writes
    };
    let tagged =
        |e: &Engine<InMemoryEc2, MemoryRules, SlowLookup, &FixedClock, MemoryPolicyState>| {
            ids.iter()
                .filter(|id| e.ec2.instance(id).unwrap().tags.contains_key("CreatedBy"))
                .count()
        };

    let first = e
        .run(&Trigger::Sweep, Some(clock.now() + Duration::seconds(60)))
        .await
        .unwrap();
    assert_eq!(
        first.cloudtrail_lookups, 20,
        "60 s - 10 s margin - 30 s reserve, 1 s each"
    );
    assert_eq!(tagged(&e), 20, "what was found is written in the same run");
    assert_eq!(first.counts.not_attempted, 80);
    assert_eq!(first.stopped_early, Some("deadline"));
    assert_eq!(
        ids.iter()
            .filter(|id| e.ec2.instance(id).unwrap().tags.contains_key("ProjectCode"))
            .count(),
        100,
        "the other rules are not held back by the lookups"
    );

    let second = e
        .run(&Trigger::Sweep, Some(clock.now() + Duration::seconds(60)))
        .await
        .unwrap();
    assert_eq!(
        second.cloudtrail_lookups, 20,
        "only instances still without CreatedBy"
    );
    assert_eq!(tagged(&e), 40);
}
