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
    /// `STATE_TABLE` (required), `REPORT_TOPIC_ARN`, `DRY_RUN`, `MAX_TERMINATIONS_PER_RUN`,
    /// `SCHEDULE_RATE` (the EventBridge `rate(...)` expression), `DEADLINE_MARGIN_SECONDS`.
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let rate = vars
            .optional("SCHEDULE_RATE")
            .unwrap_or_else(|| "rate(10 minutes)".to_owned());
        let default_window = parse_rate(&rate).ok_or_else(|| ConfigError::Invalid {
            name: "SCHEDULE_RATE".into(),
            value: rate.clone(),
            reason: "expected rate(N minutes|hours|days)".into(),
        })?;
        let margin: i64 = vars.parsed_or("DEADLINE_MARGIN_SECONDS", 10)?;
        Ok(Self {
            state_table: vars.required("STATE_TABLE")?,
            report_topic_arn: vars.optional("REPORT_TOPIC_ARN"),
            settings: Settings {
                dry_run: vars.flag_or("DRY_RUN", false)?,
                max_terminations_per_run: vars.parsed_or("MAX_TERMINATIONS_PER_RUN", 5)?,
                default_window,
                deadline_margin: Duration::seconds(margin),
                ..Settings::default()
            },
        })
    }
}

/// `rate(10 minutes)`, `rate(1 hour)`, `rate(2 days)`.
pub fn parse_rate(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: i64 = count.parse().ok().filter(|c| *c > 0)?;
    match unit.trim() {
        "minute" | "minutes" => Some(Duration::minutes(count)),
        "hour" | "hours" => Some(Duration::hours(count)),
        "day" | "days" => Some(Duration::days(count)),
        _ => None,
    }
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
}
