//! The tagging policy's rule rows, as people type them into the rules table: every row is either
//! a rule or a reported problem (none vanishes); no rule writes a protected or `aws:` key; one
//! rule per key, in RuleId order; keys and values within EC2's limits; a function's value renders
//! back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagging_policy::config::protected_tag_keys;
use tagging_policy::rules::{
    Field, Policy, RuleAction, RuleRow, ValueFunction, ALWAYS_PROTECTED_TAG_KEYS,
    MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS,
};

/// `\u{1}` marks an absent attribute, `\u{2}` one stored with another type.
fn field(text: &str) -> Field {
    match text {
        "\u{1}" => Field::Absent,
        "\u{2}" => Field::WrongType("N"),
        t => Field::text(t),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // One row per line: RuleId, TagKey, Action, Required, Default, separated by tabs; the
    // first line is the operator's PROTECTED_TAG_KEYS, read as the function reads it.
    let mut lines = text.split('\n');
    let protected_line = lines.next().unwrap_or_default();
    let protected = protected_tag_keys(&[("PROTECTED_TAG_KEYS", protected_line)]);
    let rows: Vec<RuleRow> = lines
        .map(|line| {
            let mut cells = line.split('\t').map(field);
            let mut next = || cells.next().unwrap_or(Field::Absent);
            RuleRow {
                rule_id: next(),
                tag_key: next(),
                action: next(),
                required: next(),
                default: next(),
            }
        })
        .collect();
    let count = rows.len();
    let policy = Policy::from_rows(rows, &protected);

    assert_eq!(
        policy.rules.len() + policy.problems.len(),
        count,
        "every row is accounted for"
    );
    let mut keys = std::collections::BTreeSet::new();
    let mut last_id = i64::MIN;
    for rule in &policy.rules {
        let key = rule.tag_key.as_str();
        assert!(
            !key.is_empty() && key.chars().count() <= MAX_TAG_KEY_CHARS,
            "{key:?}"
        );
        assert!(!key.to_ascii_lowercase().starts_with("aws:"), "{key:?}");
        assert!(
            !ALWAYS_PROTECTED_TAG_KEYS
                .iter()
                .copied()
                .chain(protected.iter().map(String::as_str))
                .any(|p| p.eq_ignore_ascii_case(key)),
            "protected key {key:?} written"
        );
        assert!(keys.insert(key.to_owned()), "two rules for {key:?}");
        assert!(rule.rule_id >= last_id, "rules in RuleId order");
        last_id = rule.rule_id;
        match &rule.action {
            RuleAction::Update { default } => {
                assert!(
                    !default.trim().is_empty() && default.chars().count() <= MAX_TAG_VALUE_CHARS
                )
            }
            RuleAction::Function { function } => {
                assert_eq!(ValueFunction::parse(&function.to_string()), Some(*function))
            }
            RuleAction::UserLookup => {}
        }
    }
});
