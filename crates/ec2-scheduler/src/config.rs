//! The scheduler's configuration, read once at init.

use chrono::Duration;
use fleet_core::{ConfigError, FromVars, Vars};

use crate::run::Settings;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub state_table: String,
    pub report_topic_arn: Option<String>,
    pub settings: Settings,
}

impl FromVars for Config {
    /// `STATE_TABLE` (required), `REPORT_TOPIC_ARN`, `DRY_RUN`, `MAX_TERMINATIONS_PER_RUN`
    /// (0–1000), `SCHEDULE_RATE` (the EventBridge `rate(...)` expression, 1 minute to 1 day),
    /// `DEADLINE_MARGIN_SECONDS` (0–300), `PENDING_ACTION_TTL_MINUTES` (1–1440).
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let rate = vars
            .optional("SCHEDULE_RATE")
            .unwrap_or_else(|| "rate(10 minutes)".to_owned());
        let default_window = parse_rate(&rate).ok_or_else(|| {
            ConfigError::invalid(
                "SCHEDULE_RATE",
                &rate,
                "expected rate(N minutes|hours|days) from 1 minute to 1 day",
            )
        })?;
        let margin: i64 = vars.ranged_or("DEADLINE_MARGIN_SECONDS", 10, 0..=300)?;
        Ok(Self {
            state_table: vars.required("STATE_TABLE")?,
            report_topic_arn: vars.optional("REPORT_TOPIC_ARN"),
            settings: Settings {
                dry_run: vars.flag_or("DRY_RUN", false)?,
                max_terminations_per_run: vars.ranged_or(
                    "MAX_TERMINATIONS_PER_RUN",
                    5,
                    0..=1000,
                )?,
                default_window,
                deadline_margin: Duration::seconds(margin),
                pending_ttl: Duration::minutes(vars.ranged_or(
                    "PENDING_ACTION_TTL_MINUTES",
                    60,
                    1..=1440,
                )?),
                ..Settings::default()
            },
        })
    }
}

/// The longest rate the scheduler accepts: its catch-up window is one rate.
const MAX_RATE_MINUTES: i64 = 24 * 60;

/// `rate(10 minutes)`, `rate(1 hour)`, `rate(1 day)`: from 1 minute to 1 day.
pub fn parse_rate(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: i64 = count.parse().ok()?;
    let unit_minutes = match unit.trim() {
        "minute" | "minutes" => 1,
        "hour" | "hours" => 60,
        "day" | "days" => 24 * 60,
        _ => return None,
    };
    let minutes = count.checked_mul(unit_minutes)?;
    (1..=MAX_RATE_MINUTES)
        .contains(&minutes)
        .then(|| Duration::minutes(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("rate(10 minutes)"), Some(Duration::minutes(10)));
        assert_eq!(parse_rate("rate(1 hour)"), Some(Duration::hours(1)));
        assert_eq!(parse_rate("rate(0 minutes)"), None);
        assert_eq!(parse_rate("cron(0 8 * * ? *)"), None);
        assert_eq!(parse_rate("rate(1 day)"), Some(Duration::days(1)));
        assert_eq!(parse_rate("rate(1440 minutes)"), Some(Duration::days(1)));
        // Out of range, never a panic: more than a day, and counts that overflow.
        assert_eq!(parse_rate("rate(1441 minutes)"), None);
        assert_eq!(parse_rate("rate(2 days)"), None);
        assert_eq!(parse_rate("rate(9999999999999999 minutes)"), None);
        assert_eq!(parse_rate("rate(9223372036854775807 days)"), None);
        assert_eq!(parse_rate("rate(-5 minutes)"), None);
    }

    #[test]
    fn from_vars() {
        let config = Config::from_vars(&[
            ("STATE_TABLE", "fleet-state"),
            ("DRY_RUN", "true"),
            ("MAX_TERMINATIONS_PER_RUN", "2"),
            ("SCHEDULE_RATE", "rate(5 minutes)"),
            ("REPORT_TOPIC_ARN", ""),
        ])
        .unwrap();
        assert_eq!(config.state_table, "fleet-state");
        assert_eq!(config.report_topic_arn, None);
        assert!(config.settings.dry_run);
        assert_eq!(config.settings.max_terminations_per_run, 2);
        assert_eq!(config.settings.default_window, Duration::minutes(5));
    }

    #[test]
    fn missing_table_is_named() {
        let err = Config::from_vars(&[("DRY_RUN", "false")]).unwrap_err();
        assert_eq!(err.to_string(), "missing environment variable STATE_TABLE");
        let err =
            Config::from_vars(&[("STATE_TABLE", "t"), ("SCHEDULE_RATE", "cron(0 8 * * ? *)")])
                .unwrap_err();
        assert!(err.to_string().contains("SCHEDULE_RATE"), "{err}");
    }

    #[test]
    fn numbers_out_of_range_name_the_variable() {
        for (name, value) in [
            ("DEADLINE_MARGIN_SECONDS", "301"),
            ("DEADLINE_MARGIN_SECONDS", "9223372036854775807"),
            ("DEADLINE_MARGIN_SECONDS", "-1"),
            ("MAX_TERMINATIONS_PER_RUN", "1001"),
            ("SCHEDULE_RATE", "rate(9999999999999999 minutes)"),
            ("PENDING_ACTION_TTL_MINUTES", "0"),
            ("PENDING_ACTION_TTL_MINUTES", "1441"),
        ] {
            let err = Config::from_vars(&[("STATE_TABLE", "t"), (name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        let config = Config::from_vars(&[
            ("STATE_TABLE", "t"),
            ("DEADLINE_MARGIN_SECONDS", "300"),
            ("MAX_TERMINATIONS_PER_RUN", "1000"),
            ("SCHEDULE_RATE", "rate(24 hours)"),
            ("PENDING_ACTION_TTL_MINUTES", "1440"),
        ])
        .unwrap();
        assert_eq!(config.settings.deadline_margin, Duration::seconds(300));
        assert_eq!(config.settings.pending_ttl, Duration::days(1));
    }
}
