//! The policy's rows and what they mean. A bad row is reported and skipped; the others still run.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// EC2's limits on tags.
pub const MAX_TAG_KEY_CHARS: usize = 128;
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// Tags no rule may write: the scheduler acts on `Schedule` (up to terminating the instance) and
/// writes `ScheduleError`; the Alexa skill may start and stop only instances tagged `AlexaControl`.
/// The function's IAM policy denies CreateTags for the same keys (any letter case).
pub const ALWAYS_PROTECTED_TAG_KEYS: [&str; 3] = ["Schedule", "ScheduleError", "AlexaControl"];

/// One attribute of a row as stored: DynamoDB strings and numbers are both text here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Absent,
    Text(String),
    /// Stored with another type (the DynamoDB type's name).
    WrongType(&'static str),
}

impl Field {
    pub fn text(value: &str) -> Self {
        Self::Text(value.to_owned())
    }

    fn trimmed(&self) -> Option<&str> {
        match self {
            Self::Text(t) if !t.trim().is_empty() => Some(t.trim()),
            _ => None,
        }
    }
}

/// A row of the rules table, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub rule_id: Field,
    pub tag_key: Field,
    pub action: Field,
    pub required: Field,
    pub default: Field,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action")]
pub enum RuleAction {
    /// Set the rule's `Default`.
    Update { default: String },
    /// Set the identity that launched the instance.
    UserLookup,
    /// Compute the value.
    Function { function: ValueFunction },
}

impl RuleAction {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Update { .. } => "Update",
            Self::UserLookup => "UserLookup",
            Self::Function { .. } => "Function",
        }
    }
}

/// `today()` and `today()+Nd`: the UTC date, N days on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ValueFunction {
    pub days_ahead: i64,
}

impl ValueFunction {
    pub fn parse(text: &str) -> Option<Self> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let rest = compact.strip_prefix("today()")?;
        if rest.is_empty() {
            return Some(Self { days_ahead: 0 });
        }
        let days: i64 = rest.strip_prefix('+')?.strip_suffix('d')?.parse().ok()?;
        // Up to a hundred years keeps the date arithmetic far from chrono's range.
        (0..=36_500)
            .contains(&days)
            .then_some(Self { days_ahead: days })
    }

    pub fn value_at(self, now: DateTime<Utc>) -> String {
        (now + Duration::days(self.days_ahead))
            .format("%Y-%m-%d")
            .to_string()
    }
}

impl std::fmt::Display for ValueFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.days_ahead {
            0 => f.write_str("today()"),
            n => write!(f, "today()+{n}d"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub rule_id: i64,
    pub tag_key: String,
    pub required: bool,
    #[serde(flatten)]
    pub action: RuleAction,
}

/// A row that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleProblem {
    /// The row's RuleId as stored (it may itself be the problem).
    pub rule_id: String,
    pub reason: String,
}

/// The usable rules in RuleId order, and the rows that were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub rules: Vec<Rule>,
    pub problems: Vec<RuleProblem>,
}

impl Policy {
    /// The rules of `rows`; a row for a key in [`ALWAYS_PROTECTED_TAG_KEYS`] or in
    /// `protected_keys` (compared in any letter case) is a bad row.
    pub fn from_rows(rows: impl IntoIterator<Item = RuleRow>, protected_keys: &[String]) -> Self {
        let mut parsed: Vec<(Option<i64>, String, Result<Rule, String>)> = rows
            .into_iter()
            .map(|row| {
                let shown = match &row.rule_id {
                    Field::Text(t) => t.trim().to_owned(),
                    Field::Absent => "(no RuleId)".to_owned(),
                    Field::WrongType(t) => format!("(RuleId of type {t})"),
                };
                let id = row.rule_id.trimmed().and_then(|t| t.parse::<i64>().ok());
                let rule = parse_row(&row).and_then(|rule| refuse_protected(rule, protected_keys));
                (id, shown, rule)
            })
            .collect();
        // RuleId order decides which of two rules for the same key wins: the lower one.
        parsed.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
        let mut policy = Policy::default();
        let mut keys = BTreeSet::new();
        for (_, shown, result) in parsed {
            match result {
                Ok(rule) if !keys.insert(rule.tag_key.clone()) => {
                    policy.problems.push(RuleProblem {
                        rule_id: shown,
                        reason: format!(
                            "TagKey {:?} already has a rule with a lower RuleId",
                            rule.tag_key
                        ),
                    })
                }
                Ok(rule) => policy.rules.push(rule),
                Err(reason) => policy.problems.push(RuleProblem {
                    rule_id: shown,
                    reason,
                }),
            }
        }
        policy
    }
}

fn refuse_protected(rule: Rule, protected_keys: &[String]) -> Result<Rule, String> {
    let protected = ALWAYS_PROTECTED_TAG_KEYS
        .iter()
        .copied()
        .chain(protected_keys.iter().map(String::as_str))
        .any(|key| key.eq_ignore_ascii_case(&rule.tag_key));
    if protected {
        return Err(format!(
            "TagKey {:?} is protected: the policy never writes the scheduler's, the skill's or a \
             listed key",
            rule.tag_key
        ));
    }
    Ok(rule)
}

fn text<'a>(field: &'a Field, name: &str) -> Result<Option<&'a str>, String> {
    match field {
        Field::WrongType(t) => Err(format!("{name} must be a string, not {t}")),
        f => Ok(f.trimmed()),
    }
}

fn parse_row(row: &RuleRow) -> Result<Rule, String> {
    let rule_id = text(&row.rule_id, "RuleId")?
        .ok_or("missing RuleId")?
        .parse::<i64>()
        .map_err(|_| "RuleId must be a whole number".to_owned())?;
    let tag_key = text(&row.tag_key, "TagKey")?.ok_or("missing TagKey")?;
    if tag_key.chars().count() > MAX_TAG_KEY_CHARS {
        return Err(format!(
            "TagKey is longer than {MAX_TAG_KEY_CHARS} characters"
        ));
    }
    if tag_key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!(
            "TagKey {tag_key:?}: the aws: prefix is reserved by AWS"
        ));
    }
    let required = match text(&row.required, "Required")? {
        Some(r) if matches!(r.to_ascii_uppercase().as_str(), "Y" | "YES") => true,
        Some(r) if matches!(r.to_ascii_uppercase().as_str(), "N" | "NO") => false,
        Some(other) => return Err(format!("Required must be Y or N, not {other:?}")),
        None => return Err("missing Required (Y or N)".to_owned()),
    };
    let default = text(&row.default, "Default")?;
    let action = match text(&row.action, "Action")? {
        Some("Update") => {
            let default = default.ok_or("Update needs a Default value")?;
            if default.chars().count() > MAX_TAG_VALUE_CHARS {
                return Err(format!(
                    "Default is longer than {MAX_TAG_VALUE_CHARS} characters"
                ));
            }
            RuleAction::Update {
                default: default.to_owned(),
            }
        }
        Some("UserLookup") => RuleAction::UserLookup,
        Some("Function") => {
            let name = default.ok_or("Function needs a function in Default, e.g. today()")?;
            let function = ValueFunction::parse(name)
                .ok_or_else(|| format!("unknown function {name:?} (known: today(), today()+Nd)"))?;
            RuleAction::Function { function }
        }
        Some(other) => {
            return Err(format!(
                "unknown action {other:?} (known: Update, UserLookup, Function)"
            ))
        }
        None => return Err("missing Action".to_owned()),
    };
    Ok(Rule {
        rule_id,
        tag_key: tag_key.to_owned(),
        required,
        action,
    })
}

/// The three rows the policy shipped with.
pub fn seed_rows() -> Vec<RuleRow> {
    let row = |id: &str, key: &str, action: &str, required: &str, default: Option<&str>| RuleRow {
        rule_id: Field::text(id),
        tag_key: Field::text(key),
        action: Field::text(action),
        required: Field::text(required),
        default: default.map_or(Field::Absent, Field::text),
    };
    vec![
        row("1", "ProjectCode", "Update", "Y", Some("Proj007")),
        row("2", "CreatedBy", "UserLookup", "Y", None),
        row("3", "Expires", "Function", "N", Some("today()")),
    ]
}
