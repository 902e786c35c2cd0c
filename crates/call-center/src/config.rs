//! Typed settings from the environment, read once at init; every error names its variable.

use fleet_core::{ConfigError, FromVars, Vars};

use crate::language;
use crate::ports::Speakers;

/// Transcribe's PII redaction, which it offers only for en-US and es-US and never with
/// automatic language identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redaction {
    /// Every transcript is redacted; a recording Transcribe cannot redact (another language, or
    /// no `Content-Language`) is REJECTED with that reason instead of transcribed in clear.
    Required,
    /// Redacted where Transcribe can; other languages are transcribed unredacted (recorded on the
    /// call as `Redacted: false`).
    WhenAvailable,
    Off,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StarterConfig {
    pub table: String,
    pub bucket: String,
    pub recordings_prefix: String,
    pub transcripts_prefix: String,
    pub data_access_role_arn: String,
    pub language_options: Vec<String>,
    pub speakers: Speakers,
    pub redaction: Redaction,
    pub daily_cap: u32,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnalyserConfig {
    pub table: String,
    pub bucket: String,
    pub transcripts_prefix: String,
    pub base_language: String,
    pub negative_threshold: f64,
    pub event_bus: String,
    pub manager_topic_arn: Option<String>,
}

fn prefix(vars: &impl Vars, name: &str, default: &str) -> Result<String, ConfigError> {
    let value = vars.optional(name).unwrap_or_else(|| default.to_owned());
    if value.starts_with('/') || !value.ends_with('/') || value.len() < 2 {
        return Err(ConfigError::invalid(
            name,
            &value,
            "expected a folder such as recordings/",
        ));
    }
    Ok(value)
}

impl FromVars for StarterConfig {
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let recordings_prefix = prefix(vars, "RECORDINGS_PREFIX", "recordings/")?;
        let transcripts_prefix = prefix(vars, "TRANSCRIPTS_PREFIX", "transcripts/")?;
        if recordings_prefix.starts_with(&transcripts_prefix)
            || transcripts_prefix.starts_with(&recordings_prefix)
        {
            // Transcripts under the recordings prefix would start jobs on transcripts.
            return Err(ConfigError::invalid(
                "TRANSCRIPTS_PREFIX",
                &transcripts_prefix,
                "must not overlap RECORDINGS_PREFIX",
            ));
        }
        let options_text = vars
            .optional("LANGUAGE_OPTIONS")
            .unwrap_or_else(|| "en-US,es-US,fr-FR,de-DE".to_owned());
        let mut language_options = Vec::new();
        for option in options_text
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            let code = language::transcribe_code(option).ok_or_else(|| {
                ConfigError::invalid("LANGUAGE_OPTIONS", option, "not a Transcribe language code")
            })?;
            language_options.push(code.to_owned());
        }
        if language_options.is_empty() {
            return Err(ConfigError::invalid(
                "LANGUAGE_OPTIONS",
                &options_text,
                "no language",
            ));
        }
        let mode = vars
            .optional("SPEAKER_MODE")
            .unwrap_or_else(|| "labels".into());
        let speakers = match mode.as_str() {
            "labels" => {
                let max: u8 = vars.parsed_or("MAX_SPEAKERS", 2)?;
                if !(2..=30).contains(&max) {
                    return Err(ConfigError::invalid(
                        "MAX_SPEAKERS",
                        &max.to_string(),
                        "must be 2-30",
                    ));
                }
                Speakers::Labels(max)
            }
            "channels" => Speakers::Channels,
            _ => {
                return Err(ConfigError::invalid(
                    "SPEAKER_MODE",
                    &mode,
                    "expected labels or channels",
                ))
            }
        };
        let redaction_text = vars
            .optional("PII_REDACTION")
            .unwrap_or_else(|| "required".into());
        let redaction = match redaction_text.as_str() {
            "required" => Redaction::Required,
            "when-available" => Redaction::WhenAvailable,
            "off" => Redaction::Off,
            _ => {
                return Err(ConfigError::invalid(
                    "PII_REDACTION",
                    &redaction_text,
                    "expected required, when-available or off",
                ))
            }
        };
        let max_attempts: u32 = vars.parsed_or("MAX_ATTEMPTS", 3)?;
        if !(1..=crate::jobname::MAX_ATTEMPTS).contains(&max_attempts) {
            return Err(ConfigError::invalid(
                "MAX_ATTEMPTS",
                &max_attempts.to_string(),
                "must be 1-99",
            ));
        }
        Ok(Self {
            table: vars.required("CALLS_TABLE")?,
            bucket: vars.required("RECORDINGS_BUCKET")?,
            recordings_prefix,
            transcripts_prefix,
            data_access_role_arn: vars.required("DATA_ACCESS_ROLE_ARN")?,
            language_options,
            speakers,
            redaction,
            daily_cap: vars.parsed_or("DAILY_JOB_CAP", 500)?,
            max_attempts,
        })
    }
}

impl FromVars for AnalyserConfig {
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let base_language = vars
            .optional("BASE_LANGUAGE")
            .unwrap_or_else(|| "en".into());
        if !language::is_sentiment_language(&base_language) {
            return Err(ConfigError::invalid(
                "BASE_LANGUAGE",
                &base_language,
                "Comprehend scores sentiment only in ar de en es fr hi it ja ko pt zh zh-TW",
            ));
        }
        let negative_threshold: f64 = vars.ranged_or("NEGATIVE_THRESHOLD", 0.5, 0.0..=1.0)?;
        Ok(Self {
            table: vars.required("CALLS_TABLE")?,
            bucket: vars.required("RECORDINGS_BUCKET")?,
            transcripts_prefix: prefix(vars, "TRANSCRIPTS_PREFIX", "transcripts/")?,
            base_language,
            negative_threshold,
            event_bus: vars
                .optional("EVENT_BUS_NAME")
                .unwrap_or_else(|| "default".into()),
            manager_topic_arn: vars.optional("MANAGER_TOPIC_ARN"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: [(&str, &str); 3] = [
        ("CALLS_TABLE", "calls"),
        ("RECORDINGS_BUCKET", "b"),
        ("DATA_ACCESS_ROLE_ARN", "arn:aws:iam::123456789012:role/t"),
    ];

    #[test]
    fn defaults_and_errors() {
        let c = StarterConfig::from_vars(&BASE).unwrap();
        assert_eq!(c.speakers, Speakers::Labels(2));
        assert_eq!(c.redaction, Redaction::Required);
        assert_eq!(c.language_options, ["en-US", "es-US", "fr-FR", "de-DE"]);
        assert_eq!(c.daily_cap, 500);
        let with = |k: &'static str, v: &'static str| {
            let mut m: std::collections::HashMap<String, String> = BASE
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            m.insert(k.into(), v.into());
            StarterConfig::from_vars(&m)
        };
        assert!(with("LANGUAGE_OPTIONS", "en-US,xx")
            .unwrap_err()
            .to_string()
            .contains("LANGUAGE_OPTIONS"));
        assert!(with("TRANSCRIPTS_PREFIX", "recordings/out/").is_err());
        assert!(with("MAX_SPEAKERS", "1").is_err());
        assert_eq!(
            with("SPEAKER_MODE", "channels").unwrap().speakers,
            Speakers::Channels
        );
        assert_eq!(
            with("PII_REDACTION", "off").unwrap().redaction,
            Redaction::Off
        );
        assert!(with("PII_REDACTION", "maybe").is_err());
        assert_eq!(
            StarterConfig::from_vars(&[("CALLS_TABLE", "c"), ("RECORDINGS_BUCKET", "b")])
                .unwrap_err()
                .to_string(),
            "missing environment variable DATA_ACCESS_ROLE_ARN"
        );
        let a = AnalyserConfig::from_vars(&BASE).unwrap();
        assert_eq!(
            (a.base_language.as_str(), a.negative_threshold),
            ("en", 0.5)
        );
        assert!(AnalyserConfig::from_vars(&[
            ("CALLS_TABLE", "c"),
            ("RECORDINGS_BUCKET", "b"),
            ("BASE_LANGUAGE", "nl")
        ])
        .is_err());
    }
}
