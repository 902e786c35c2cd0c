//! The handler's settings, read once at init from the environment.

use fleet_core::config::{ConfigError, FromVars, Vars};

use crate::normalise::SourceMap;

/// Events up to this size are kept in the archive item (DynamoDB items hold 400 KB; ten of them
/// in one transaction stay far below its 4 MB); larger ones go to the spill bucket.
pub const DEFAULT_INLINE_BYTES: usize = 32 * 1024;

/// What the handler does, independent of where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Digest window (`DIGEST_MINUTES`, 5–1440, default 15).
    pub digest_window: chrono::Duration,
    /// How long an archived failure is kept (`RETENTION_DAYS`, 1–365, default 30): the item's TTL.
    pub retention: chrono::Duration,
    /// Events larger than this (bytes) are spilled to S3.
    pub inline_bytes: usize,
    /// Which function each dead-letter queue or topic belongs to (`DLQ_SOURCES`).
    pub sources: SourceMap,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            digest_window: chrono::Duration::minutes(15),
            retention: chrono::Duration::days(30),
            inline_bytes: DEFAULT_INLINE_BYTES,
            sources: SourceMap::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `ARCHIVE_TABLE` (required).
    pub archive_table: String,
    /// `SPILL_BUCKET` (required).
    pub spill_bucket: String,
    /// `REPORT_TOPIC_ARN`: where digests go; without it they are only logged.
    pub report_topic_arn: Option<String>,
    pub settings: Settings,
}

impl FromVars for Config {
    fn from_vars(vars: &impl Vars) -> Result<Self, ConfigError> {
        let minutes = vars.ranged_or("DIGEST_MINUTES", 15, 5..=1440)?;
        let days = vars.ranged_or("RETENTION_DAYS", 30, 1..=365)?;
        let sources = match vars.optional("DLQ_SOURCES") {
            None => SourceMap::default(),
            Some(value) => value.parse().map_err(|reason| ConfigError::Invalid {
                name: "DLQ_SOURCES".to_owned(),
                value,
                reason,
            })?,
        };
        Ok(Self {
            archive_table: vars.required("ARCHIVE_TABLE")?,
            spill_bucket: vars.required("SPILL_BUCKET")?,
            report_topic_arn: vars.optional("REPORT_TOPIC_ARN"),
            settings: Settings {
                digest_window: chrono::Duration::minutes(minutes),
                retention: chrono::Duration::days(days),
                inline_bytes: DEFAULT_INLINE_BYTES,
                sources,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_ranges_and_names() {
        let config = Config::from_vars(&[("ARCHIVE_TABLE", "a"), ("SPILL_BUCKET", "b")]).unwrap();
        assert_eq!(config.settings, Settings::default());
        assert_eq!(config.report_topic_arn, None);
        let err = Config::from_vars(&[("SPILL_BUCKET", "b")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing environment variable ARCHIVE_TABLE"
        );
        let err = Config::from_vars(&[
            ("ARCHIVE_TABLE", "a"),
            ("SPILL_BUCKET", "b"),
            ("DIGEST_MINUTES", "1"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("DIGEST_MINUTES"), "{err}");
        let err = Config::from_vars(&[
            ("ARCHIVE_TABLE", "a"),
            ("SPILL_BUCKET", "b"),
            ("DLQ_SOURCES", "nonsense"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("DLQ_SOURCES"), "{err}");
        let config = Config::from_vars(&[
            ("ARCHIVE_TABLE", "a"),
            ("SPILL_BUCKET", "b"),
            ("DIGEST_MINUTES", "60"),
            ("RETENTION_DAYS", "7"),
            ("REPORT_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:r"),
            (
                "DLQ_SOURCES",
                "arn:aws:sns:eu-west-1:123456789012:sns-lambda-test=legacy",
            ),
        ])
        .unwrap();
        assert_eq!(config.settings.digest_window, chrono::Duration::hours(1));
        assert_eq!(config.settings.retention, chrono::Duration::days(7));
        assert_eq!(
            config
                .settings
                .sources
                .function_for("arn:aws:sns:eu-west-1:123456789012:sns-lambda-test"),
            Some("legacy")
        );
    }
}
