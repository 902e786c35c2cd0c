//! The engine's configuration, read once at init.

use chrono::Duration;
use fleet_core::{ConfigError, FromVars, Vars};

use crate::run::Settings;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub rules_table: String,
    /// The fleet's state table (the scheduler's), where the policy keeps its own items.
    pub state_table: String,
    pub report_topic_arn: Option<String>,
    pub settings: Settings,
}

/// A grace period of up to 30 days.
const MAX_GRACE_MINUTES: i64 = 30 * 24 * 60;

/// The non-empty, trimmed items of a comma-separated variable.
fn comma_list(vars: &impl Vars, name: &str) -> Vec<String> {
    vars.optional(name)
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `PROTECTED_TAG_KEYS`: keys no rule may write, besides the ones always protected (the CLI's
/// `rules validate` reads the same variable).
pub fn protected_tag_keys(vars: &impl Vars) -> Vec<String> {
    comma_list(vars, "PROTECTED_TAG_KEYS")
}

impl FromVars for Config {
    /// `RULES_TABLE` and `STATE_TABLE` (required), `REPORT_TOPIC_ARN`, `UNTAGGED_ACTION` (notify|stop|terminate),
    /// `GRACE_MINUTES`, `MAX_ENFORCEMENTS_PER_RUN`, `POLICY_VPC_IDS` (comma-separated),
    /// `DRY_RUN`, `DEADLINE_MARGIN_SECONDS`, `PROTECTED_TAG_KEYS` (comma-separated, added to the
    /// keys that are always protected).
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let defaults = Settings::default();
        let grace: i64 = vars.ranged_or(
            "GRACE_MINUTES",
            defaults.grace.num_minutes(),
            0..=MAX_GRACE_MINUTES,
        )?;
        let margin: i64 = vars.ranged_or(
            "DEADLINE_MARGIN_SECONDS",
            defaults.deadline_margin.num_seconds(),
            0..=300,
        )?;
        let vpc_ids = comma_list(vars, "POLICY_VPC_IDS");
        let protected_tag_keys = protected_tag_keys(vars);
        if let Some(bad) = vpc_ids.iter().find(|v| !v.starts_with("vpc-")) {
            return Err(ConfigError::invalid(
                "POLICY_VPC_IDS",
                bad,
                "expected VPC ids such as vpc-0abc1234, separated by commas",
            ));
        }
        Ok(Self {
            rules_table: vars.required("RULES_TABLE")?,
            state_table: vars.required("STATE_TABLE")?,
            report_topic_arn: vars.optional("REPORT_TOPIC_ARN"),
            settings: Settings {
                dry_run: vars.flag_or("DRY_RUN", false)?,
                untagged_action: vars.parsed_or("UNTAGGED_ACTION", defaults.untagged_action)?,
                grace: Duration::minutes(grace),
                max_enforcements_per_run: vars.ranged_or(
                    "MAX_ENFORCEMENTS_PER_RUN",
                    defaults.max_enforcements_per_run,
                    0..=1000,
                )?,
                vpc_ids,
                deadline_margin: Duration::seconds(margin),
                protected_tag_keys,
                ..defaults
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::UntaggedAction;

    #[test]
    fn from_vars() {
        let config = Config::from_vars(&[
            ("RULES_TABLE", "tagging-rules"),
            ("STATE_TABLE", "fleet-state"),
            ("UNTAGGED_ACTION", "Terminate"),
            ("GRACE_MINUTES", "30"),
            ("MAX_ENFORCEMENTS_PER_RUN", "3"),
            ("POLICY_VPC_IDS", "vpc-1, vpc-2,"),
            ("DRY_RUN", "true"),
            ("REPORT_TOPIC_ARN", ""),
        ])
        .unwrap();
        assert_eq!(config.rules_table, "tagging-rules");
        assert_eq!(config.report_topic_arn, None);
        assert_eq!(config.settings.untagged_action, UntaggedAction::Terminate);
        assert_eq!(config.settings.grace, Duration::minutes(30));
        assert_eq!(config.settings.max_enforcements_per_run, 3);
        assert_eq!(config.settings.vpc_ids, ["vpc-1", "vpc-2"]);
        assert!(config.settings.dry_run);
    }

    #[test]
    fn defaults_and_errors_name_the_variable() {
        let config = Config::from_vars(&[("RULES_TABLE", "t"), ("STATE_TABLE", "s")]).unwrap();
        assert_eq!(config.settings.untagged_action, UntaggedAction::Stop);
        assert_eq!(config.settings.grace, Duration::minutes(15));
        assert!(config.settings.vpc_ids.is_empty());
        for (vars, name) in [
            (
                vec![
                    ("RULES_TABLE", "t"),
                    ("STATE_TABLE", "s"),
                    ("UNTAGGED_ACTION", "delete"),
                ],
                "UNTAGGED_ACTION",
            ),
            (
                vec![
                    ("RULES_TABLE", "t"),
                    ("STATE_TABLE", "s"),
                    ("POLICY_VPC_IDS", "subnet-1"),
                ],
                "POLICY_VPC_IDS",
            ),
            (
                vec![
                    ("RULES_TABLE", "t"),
                    ("STATE_TABLE", "s"),
                    ("GRACE_MINUTES", "-5"),
                ],
                "GRACE_MINUTES",
            ),
            // Out of range, never a panic when the duration is built.
            (
                vec![
                    ("RULES_TABLE", "t"),
                    ("STATE_TABLE", "s"),
                    ("GRACE_MINUTES", "9223372036854775807"),
                ],
                "GRACE_MINUTES",
            ),
            (
                vec![
                    ("RULES_TABLE", "t"),
                    ("STATE_TABLE", "s"),
                    ("DEADLINE_MARGIN_SECONDS", "9223372036854775807"),
                ],
                "DEADLINE_MARGIN_SECONDS",
            ),
            (
                vec![
                    ("RULES_TABLE", "t"),
                    ("STATE_TABLE", "s"),
                    ("MAX_ENFORCEMENTS_PER_RUN", "1001"),
                ],
                "MAX_ENFORCEMENTS_PER_RUN",
            ),
        ] {
            let vars: std::collections::HashMap<String, String> = vars
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let err = Config::from_vars(&vars).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        let err = Config::from_vars(&[("DRY_RUN", "false")]).unwrap_err();
        assert_eq!(err.to_string(), "missing environment variable RULES_TABLE");
    }
}
