//! Typed configuration read from environment variables, once, at init.
//!
//! Every accessor names the variable in its error, so a misconfigured function fails at cold start
//! with a message that says exactly what to fix.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable {name}")]
    Missing { name: String },
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
}

impl ConfigError {
    /// `name` is set to `value`, which is wrong for `reason`.
    pub fn invalid(name: &str, value: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A function's typed configuration, read once at init.
pub trait FromVars: Sized {
    /// Every setting parsed and range-checked; an error names the variable.
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError>;
}

/// Where variables come from: the process environment in Lambda, a map in tests.
pub trait Vars {
    fn get(&self, name: &str) -> Option<String>;

    /// A variable that must be set to a non-empty value.
    fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name).ok_or_else(|| ConfigError::Missing {
            name: name.to_owned(),
        })
    }

    /// A variable that may be absent; an empty value counts as absent (CloudFormation passes
    /// optional parameters through as empty strings).
    fn optional(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A variable parsed with `FromStr`, `default` when absent.
    fn parsed_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name: name.to_owned(),
                reason: e.to_string(),
                value,
            }),
        }
    }

    /// A number within `range` (both ends included), `default` when absent. Every numeric setting
    /// goes through here, so a value that would overflow a duration later is refused at init.
    fn ranged_or<T>(
        &self,
        name: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display,
        T::Err: Display,
    {
        let value = self.parsed_or(name, default)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::Invalid {
                name: name.to_owned(),
                value: value.to_string(),
                reason: format!("must be between {} and {}", range.start(), range.end()),
            })
        }
    }

    /// `true`/`false` (any case), also `1`/`0` and `yes`/`no`; `default` when absent.
    fn flag_or(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(value) => match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(ConfigError::Invalid {
                    name: name.to_owned(),
                    value,
                    reason: "expected true or false".to_owned(),
                }),
            },
        }
    }
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Vars for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

impl<const N: usize> Vars for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranged_values_name_the_variable_and_the_range() {
        let vars = [
            ("MARGIN", "301"),
            ("HUGE", "99999999999999999999"),
            ("OK", "7"),
        ];
        assert_eq!(
            vars.ranged_or("MARGIN", 10i64, 0..=300)
                .unwrap_err()
                .to_string(),
            "environment variable MARGIN=\"301\" is invalid: must be between 0 and 300"
        );
        assert!(vars.ranged_or("HUGE", 10i64, 0..=300).is_err());
        assert_eq!(vars.ranged_or("OK", 10i64, 0..=300), Ok(7));
        assert_eq!(vars.ranged_or("ABSENT", 10i64, 0..=300), Ok(10));
    }

    #[test]
    fn missing_variable_is_named() {
        let vars = [("OTHER", "x")];
        assert_eq!(
            vars.required("STATE_TABLE").unwrap_err().to_string(),
            "missing environment variable STATE_TABLE"
        );
    }

    #[test]
    fn empty_counts_as_missing() {
        let vars = [("REPORT_TOPIC_ARN", "  ")];
        assert_eq!(vars.optional("REPORT_TOPIC_ARN"), None);
        assert!(vars.required("REPORT_TOPIC_ARN").is_err());
    }

    #[test]
    fn parsed_values_and_defaults() {
        let vars = [("MAX", "7"), ("BAD", "seven")];
        assert_eq!(vars.parsed_or("MAX", 5u32), Ok(7));
        assert_eq!(vars.parsed_or("ABSENT", 5u32), Ok(5));
        let err = vars.parsed_or("BAD", 5u32).unwrap_err().to_string();
        assert!(err.contains("BAD=\"seven\""), "{err}");
    }

    #[test]
    fn flags() {
        let vars = [("A", "TRUE"), ("B", "0"), ("C", "maybe")];
        assert_eq!(vars.flag_or("A", false), Ok(true));
        assert_eq!(vars.flag_or("B", true), Ok(false));
        assert_eq!(vars.flag_or("D", true), Ok(true));
        assert!(vars.flag_or("C", true).is_err());
    }
}
