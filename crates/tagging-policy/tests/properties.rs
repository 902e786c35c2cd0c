//! Properties over arbitrary rows and tags: nothing panics, and no fix ever overwrites a value.

use chrono::{DateTime, Duration, Utc};
use fleet_ec2::{Instance, InstanceState};
use proptest::prelude::*;
use tagging_policy::rules::{seed_rows, Field, Policy, RuleRow};
use tagging_policy::{assess, Assessment};

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::Absent),
        Just(Field::WrongType("BOOL")),
        "\\PC{0,12}".prop_map(Field::Text),
        prop::sample::select(vec![
            "Update",
            "UserLookup",
            "Function",
            "Y",
            "N",
            "today()",
            "today()+3d",
            "1"
        ])
        .prop_map(Field::text),
    ]
}

proptest! {
    #[test]
    fn any_rows_parse_without_panicking_and_every_row_is_accounted_for(
        rows in prop::collection::vec((field(), field(), field(), field(), field()), 0..12)
    ) {
        let rows: Vec<RuleRow> = rows
            .into_iter()
            .map(|(rule_id, tag_key, action, required, default)| RuleRow { rule_id, tag_key, action, required, default })
            .collect();
        let count = rows.len();
        let policy = Policy::from_rows(rows, &[]);
        prop_assert_eq!(policy.rules.len() + policy.problems.len(), count);
    }

    #[test]
    fn a_present_non_empty_value_is_never_a_violation(
        tags in prop::collection::btree_map(
            prop::sample::select(vec!["ProjectCode", "CreatedBy", "Expires", "Name"]),
            "[ a-z0-9]{0,3}",
            0..4,
        ),
        minutes_ago in 0i64..100_000,
    ) {
        let now: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
        let mut instance = Instance::new("i-1", InstanceState::Running);
        instance.tags = tags.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        instance.launch_time = Some(now - Duration::minutes(minutes_ago));
        let rules = Policy::from_rows(seed_rows(), &[]).rules;
        match assess(&instance, &rules, Duration::minutes(15), now, None) {
            Assessment::Checked { violations } => {
                for v in violations {
                    let current = instance.tag(&v.tag_key);
                    prop_assert!(current.is_none_or(|c| c.trim().is_empty()), "{} = {:?}", v.tag_key, current);
                }
            }
            Assessment::InGrace { .. } => prop_assert!(instance.tags.is_empty() && minutes_ago < 15),
            Assessment::Untagged => prop_assert!(instance.tags.is_empty() && minutes_ago >= 15),
        }
    }
}
