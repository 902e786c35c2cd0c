//! Configuration from the environment, read once at init. Every function of the crate reads the
//! same variables; each `wire_*` checks the ones it needs.

use fleet_core::{ConfigError, FromVars, Vars};
use fleet_otp::config::OtpConfig;

use crate::approvals::Settings;
use crate::policy::{normalize_address, ApproverPolicy};

#[derive(Debug, Clone)]
pub struct Config {
    /// `APPROVALS_TABLE`.
    pub table: String,
    /// `SIGNING_SECRET_ID`: the Secrets Manager secret holding the link-signing key.
    pub signing_secret_id: String,
    /// `ACTIVITY_ARN`: the poller's activity.
    pub activity_arn: Option<String>,
    /// `WORKER_NAME`, sent with `GetActivityTask` (the function's name in Lambda).
    pub worker_name: String,
    /// `RETENTION_DAYS` after its expiry an item is removed by the table's TTL (the audit trail).
    pub retention: chrono::Duration,
    pub policy: ApproverPolicy,
    pub settings: Settings,
    /// The OTP library's settings (`PROFILES_TABLE`, `CODES_TABLE`, `CODES_KEY_PREFIX`, `OTP_KEY_SECRET_ID`, …) when
    /// `PROFILES_TABLE` is set: the responder's step-up (`REQUIRE_STEP_UP=true`) needs them.
    pub otp: Option<OtpConfig>,
}

impl FromVars for Config {
    fn from_vars(vars: &impl Vars) -> Result<Config, ConfigError> {
        let sender_raw = vars.required("SENDER")?;
        let sender = normalize_address(&sender_raw)
            .ok_or_else(|| ConfigError::invalid("SENDER", &sender_raw, "not an email address"))?;
        let approvers = vars.optional("APPROVERS");
        let domains = vars.optional("APPROVER_DOMAINS");
        let policy =
            ApproverPolicy::parse(approvers.as_deref(), domains.as_deref()).map_err(|reason| {
                ConfigError::invalid(
                    "APPROVERS",
                    approvers.as_deref().unwrap_or_default(),
                    reason,
                )
            })?;
        if policy.is_empty() {
            return Err(ConfigError::invalid(
                "APPROVERS",
                "",
                "set APPROVERS or APPROVER_DOMAINS: without them nobody may approve anything",
            ));
        }
        let timeout: i64 = vars.ranged_or("DEFAULT_TIMEOUT_SECONDS", 3600, 60..=366 * 86_400)?;
        let base_url = vars.optional("PUBLIC_BASE_URL");
        if let Some(url) = &base_url {
            if !url.starts_with("https://") && !url.starts_with("http://") {
                return Err(ConfigError::invalid(
                    "PUBLIC_BASE_URL",
                    url,
                    "must start with https://",
                ));
            }
        }
        let retention_days: i64 = vars.ranged_or("RETENTION_DAYS", 90, 1..=3650)?;
        let otp = match vars.optional("PROFILES_TABLE") {
            Some(_) => Some(OtpConfig::from_vars(vars)?),
            None => None,
        };
        Ok(Config {
            otp,
            retention: chrono::Duration::days(retention_days),
            table: vars.required("APPROVALS_TABLE")?,
            signing_secret_id: vars.required("SIGNING_SECRET_ID")?,
            activity_arn: vars.optional("ACTIVITY_ARN"),
            worker_name: vars
                .optional("WORKER_NAME")
                .or_else(|| vars.optional("AWS_LAMBDA_FUNCTION_NAME"))
                .unwrap_or_else(|| "approval-poller".to_owned()),
            policy,
            settings: Settings {
                base_url,
                sender,
                default_workflow: vars
                    .optional("DEFAULT_WORKFLOW")
                    .unwrap_or_else(|| "promotion".to_owned()),
                default_timeout: chrono::Duration::seconds(timeout),
                reminders: vars.flag_or("REMINDERS", true)?,
                require_step_up: vars.flag_or("REQUIRE_STEP_UP", false)?,
            },
        })
    }
}
