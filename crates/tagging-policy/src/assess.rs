//! The policy's verdict on one instance at one instant: pure, so every branch is a table test.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::str::FromStr;

use crate::rules::{Rule, RuleAction};
use fleet_ec2::{Instance, Outcome};

/// What happens to an instance with no tags at all once its grace period is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UntaggedAction {
    /// Report it; change nothing.
    Notify,
    Stop,
    Terminate,
}

impl FromStr for UntaggedAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "notify" => Ok(Self::Notify),
            "stop" => Ok(Self::Stop),
            "terminate" => Ok(Self::Terminate),
            _ => Err("expected notify, stop or terminate".to_owned()),
        }
    }
}

impl std::fmt::Display for UntaggedAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Notify => "notify",
            Self::Stop => "stop",
            Self::Terminate => "terminate",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Problem {
    Missing,
    Empty,
}

/// One rule the instance breaks, the value that fixes it and what became of the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub rule_id: i64,
    pub tag_key: String,
    pub problem: Problem,
    /// The rule's action: Update, UserLookup or Function.
    pub action: &'static str,
    /// The value to write; `None` while the creator is still unknown, or when the lookup failed.
    pub value: Option<String>,
    /// Where the value came from, or why none could be found.
    pub detail: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Violation {
    /// A `UserLookup` whose creator is not known yet.
    pub fn awaits_creator(&self) -> bool {
        self.action == "UserLookup" && self.value.is_none() && self.outcome == Outcome::Unchanged
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    /// No tags at all, launched less than the grace period ago.
    InGrace { until: DateTime<Utc> },
    /// No tags at all, grace over: the untagged action applies; the rules do not (the owner has
    /// to tag it, not the policy).
    Untagged,
    /// Tagged: the rules it breaks (none = compliant).
    Checked { violations: Vec<Violation> },
}

/// When the instance was first launched, as far as EC2 says.
pub fn launched_at(instance: &Instance) -> Option<DateTime<Utc>> {
    instance.created_at.or(instance.launch_time)
}

/// `first_seen` is when the policy first saw the instance: an instance whose launch time EC2
/// does not give gets its grace period from there, never none.
pub fn assess(
    instance: &Instance,
    rules: &[Rule],
    grace: Duration,
    now: DateTime<Utc>,
    first_seen: Option<DateTime<Utc>>,
) -> Assessment {
    if instance.tags.is_empty() {
        return match launched_at(instance).or(first_seen).map(|t| t + grace) {
            Some(until) if now < until => Assessment::InGrace { until },
            _ => Assessment::Untagged,
        };
    }
    let violations = rules
        .iter()
        .filter_map(|rule| {
            let problem = match instance.tag(&rule.tag_key).map(str::trim) {
                None if rule.required => Problem::Missing,
                Some("") => Problem::Empty,
                // Present and non-empty values are never overwritten.
                _ => return None,
            };
            let (value, detail) = match &rule.action {
                RuleAction::Update { default } => {
                    (Some(default.clone()), "the rule's Default".to_owned())
                }
                RuleAction::UserLookup => (None, "who launched it".to_owned()),
                RuleAction::Function { function } => (
                    Some(function.value_at(now)),
                    format!("{function} at {}", now.format("%Y-%m-%dT%H:%M:%SZ")),
                ),
            };
            Some(Violation {
                rule_id: rule.rule_id,
                tag_key: rule.tag_key.clone(),
                problem,
                action: rule.action.name(),
                value,
                detail,
                outcome: Outcome::Unchanged,
            })
        })
        .collect();
    Assessment::Checked { violations }
}
