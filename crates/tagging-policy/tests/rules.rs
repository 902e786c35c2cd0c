//! Table tests over the policy's rows: the seed's three rules and every way a row can be bad.

use chrono::{DateTime, Utc};
use tagging_policy::rules::{seed_rows, Field, Policy, RuleAction, RuleRow, ValueFunction};

fn row(id: &str, key: &str, action: &str, required: &str, default: &str) -> RuleRow {
    let text = |v: &str| {
        if v.is_empty() {
            Field::Absent
        } else {
            Field::text(v)
        }
    };
    RuleRow {
        rule_id: text(id),
        tag_key: text(key),
        action: text(action),
        required: text(required),
        default: text(default),
    }
}

#[test]
fn the_seed_rows_parse_unchanged() {
    let policy = Policy::from_rows(seed_rows(), &[]);
    assert!(policy.problems.is_empty(), "{:?}", policy.problems);
    let summary: Vec<(i64, &str, bool, &str)> = policy
        .rules
        .iter()
        .map(|r| (r.rule_id, r.tag_key.as_str(), r.required, r.action.name()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "ProjectCode", true, "Update"),
            (2, "CreatedBy", true, "UserLookup"),
            (3, "Expires", false, "Function"),
        ]
    );
    assert_eq!(
        policy.rules[0].action,
        RuleAction::Update {
            default: "Proj007".into()
        }
    );
    assert_eq!(
        policy.rules[2].action,
        RuleAction::Function {
            function: ValueFunction { days_ahead: 0 }
        }
    );
}

#[test]
fn bad_rows_are_reported_and_skipped_while_the_others_run() {
    let mut rows = seed_rows();
    rows.extend([
        row("4", "Owner", "Delete", "Y", ""),
        row("5", "", "Update", "Y", "x"),
        row("6", "Expiry", "Function", "N", "tomorrow()"),
        row("7", "CostCenter", "Update", "Y", ""),
        row("8", "aws:createdBy", "UserLookup", "Y", ""),
        row("9", "Team", "Update", "maybe", "ops"),
        row("10", "ProjectCode", "Update", "Y", "Other"),
        row("x1", "Env", "Update", "Y", "dev"),
        row("11", "Env", "", "Y", "dev"),
        row("12", "Stage", "Function", "N", ""),
        row("13", &"k".repeat(129), "Update", "Y", "v"),
        row("14", "Long", "Update", "Y", &"v".repeat(257)),
    ]);
    rows.push(RuleRow {
        rule_id: Field::text("15"),
        tag_key: Field::WrongType("BOOL"),
        action: Field::text("Update"),
        required: Field::text("Y"),
        default: Field::text("x"),
    });
    let policy = Policy::from_rows(rows, &[]);
    assert_eq!(policy.rules.len(), 3, "only the seed rules survive");
    let problems: Vec<(String, String)> = policy
        .problems
        .iter()
        .map(|p| (p.rule_id.clone(), p.reason.clone()))
        .collect();
    let expected = [
        (
            "4",
            "unknown action \"Delete\" (known: Update, UserLookup, Function)",
        ),
        ("5", "missing TagKey"),
        (
            "6",
            "unknown function \"tomorrow()\" (known: today(), today()+Nd)",
        ),
        ("7", "Update needs a Default value"),
        (
            "8",
            "TagKey \"aws:createdBy\": the aws: prefix is reserved by AWS",
        ),
        ("9", "Required must be Y or N, not \"maybe\""),
        (
            "10",
            "TagKey \"ProjectCode\" already has a rule with a lower RuleId",
        ),
        ("11", "missing Action"),
        ("12", "Function needs a function in Default, e.g. today()"),
        ("13", "TagKey is longer than 128 characters"),
        ("14", "Default is longer than 256 characters"),
        ("15", "TagKey must be a string, not BOOL"),
        ("x1", "RuleId must be a whole number"),
    ];
    assert_eq!(
        problems,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn required_and_names_are_read_forgivingly() {
    let policy = Policy::from_rows(
        [
            row(" 20 ", " Owner ", "Update", "yes", " ops "),
            row("21", "Temp", "Update", "n", "x"),
        ],
        &[],
    );
    assert!(policy.problems.is_empty(), "{:?}", policy.problems);
    assert_eq!(policy.rules[0].tag_key, "Owner");
    assert!(policy.rules[0].required);
    assert!(!policy.rules[1].required);
    assert_eq!(
        policy.rules[0].action,
        RuleAction::Update {
            default: "ops".into()
        }
    );
}

#[test]
fn value_functions() {
    let at = DateTime::parse_from_rfc3339("2026-12-30T23:59:59Z")
        .unwrap()
        .with_timezone(&Utc);
    for (text, expected) in [
        ("today()", Some("2026-12-30")),
        (" today( ) ", Some("2026-12-30")),
        ("today()+0d", Some("2026-12-30")),
        ("today()+2d", Some("2027-01-01")),
        ("today() + 30d", Some("2027-01-29")),
        ("today()+36500d", Some("2126-12-06")),
        ("today()+36501d", None),
        ("today()-1d", None),
        ("today()+1w", None),
        ("today()+d", None),
        ("Today()", None),
        ("now()", None),
        ("", None),
    ] {
        let value = ValueFunction::parse(text).map(|f| f.value_at(at));
        assert_eq!(value.as_deref(), expected, "{text:?}");
    }
    assert_eq!(ValueFunction { days_ahead: 7 }.to_string(), "today()+7d");
}

/// A rule that writes `Schedule` could schedule terminations on every untagged instance: rows for
/// the scheduler's, the skill's or a listed key are bad rows, in any letter case and with spaces.
#[test]
fn rows_for_protected_keys_are_bad_rows() {
    let policy = Policy::from_rows(
        [
            row("1", "Schedule", "Update", "Y", "-18:30T"),
            row("2", " schedule ", "Update", "Y", "00:00-00:01"),
            row("3", "ScheduleError", "Update", "N", "x"),
            row("4", "ALEXACONTROL", "Update", "N", "true"),
            row("5", "CostCentre", "Update", "Y", "cc-1"),
            row("6", "costcentre", "Update", "Y", "cc-1"),
            row("7", "Owner", "UserLookup", "Y", ""),
        ],
        &["CostCentre".to_owned()],
    );
    let kept: Vec<&str> = policy.rules.iter().map(|r| r.tag_key.as_str()).collect();
    assert_eq!(kept, ["Owner"]);
    let refused: Vec<&str> = policy.problems.iter().map(|p| p.rule_id.as_str()).collect();
    assert_eq!(refused, ["1", "2", "3", "4", "5", "6"]);
    assert!(
        policy.problems[0]
            .reason
            .starts_with("TagKey \"Schedule\" is protected"),
        "{:?}",
        policy.problems[0]
    );
    // Without the list, CostCentre is an ordinary key; the built-in three stay protected.
    let policy = Policy::from_rows([row("5", "CostCentre", "Update", "Y", "cc-1")], &[]);
    assert_eq!(policy.rules.len(), 1);
}
