//! AWS adapters: profiles and per-user state in DynamoDB, SMS through SNS, MFA through STS, the
//! HMAC key from Secrets Manager or SSM. They own every SDK detail and map errors to `OtpError`.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sns::types::MessageAttributeValue;
use chrono::Utc;
use std::collections::HashMap;

use crate::code::HmacKey;
use crate::ports::{MfaCheck, MfaVerdict, OtpError, Profile, Profiles, Sms, StateStore};
use crate::state::UserState;
use fleet_core::aws::{error_text, service_error};
use fleet_core::{ErrorClass, ServiceError};

fn string(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The item whose `UserId` is `user_id`, read consistently; `table_name` says which table in errors.
/// Every per-user table of the OTP library and the skill is keyed this way.
pub async fn user_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    table_name: &'static str,
    user_id: &str,
) -> Result<Option<HashMap<String, AttributeValue>>, ServiceError> {
    let out = client
        .get_item()
        .table_name(table)
        .key("UserId", AttributeValue::S(user_id.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| service_error(table_name, &e))?;
    Ok(out.item)
}

/// Profiles table: `UserId` (S) → `DisplayName`, `Phone` (E.164), `MfaSerial` (optional).
#[derive(Debug, Clone)]
pub struct DynamoProfiles {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoProfiles {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl Profiles for DynamoProfiles {
    async fn get(&self, user_id: &str) -> Result<Option<Profile>, OtpError> {
        let item = user_item(&self.client, &self.table, "profiles table", user_id)
            .await
            .map_err(OtpError::Profiles)?;
        let Some(item) = item.as_ref() else {
            return Ok(None);
        };
        let Some(phone) = string(item, "Phone").filter(|p| crate::code::is_e164(p)) else {
            // A profile without a usable phone cannot receive codes; treat it as unknown.
            tracing::warn!(user = user_id, "profile has no E.164 Phone");
            return Ok(None);
        };
        Ok(Some(Profile {
            user_id: user_id.to_owned(),
            display_name: string(item, "DisplayName").unwrap_or_else(|| user_id.to_owned()),
            phone,
            mfa_serial: string(item, "MfaSerial"),
        }))
    }
}

/// Codes table: `UserId` (S, `<prefix>#<subject key>`, e.g. `api#user#alice`) → `State` (the
/// document as JSON: code HMACs, send and failure times), `Version` (N, for conditional writes),
/// `ExpiresAt` (N, the table's TTL attribute). Each function has its own prefix, and its IAM
/// policy admits only items under it (`dynamodb:LeadingKeys`).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    prefix: String,
}

impl DynamoStore {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            prefix: prefix.into(),
        }
    }

    fn item_key(&self, key: &str) -> String {
        format!("{}#{key}", self.prefix)
    }
}

fn corrupt(detail: String) -> ServiceError {
    ServiceError::new("codes table", ErrorClass::CorruptState, detail)
}

/// Nothing in a state matters after a day; TTL deletes it (eventually) after two.
const STATE_TTL_SECONDS: i64 = 2 * 24 * 3600;

impl StateStore for DynamoStore {
    async fn load(&self, key: &str) -> Result<(UserState, Option<u64>), OtpError> {
        let user_id = self.item_key(key);
        let user_id = user_id.as_str();
        let item = user_item(&self.client, &self.table, "codes table", user_id)
            .await
            .map_err(OtpError::Store)?;
        let Some(item) = item.as_ref() else {
            return Ok((UserState::default(), None));
        };
        let version = item
            .get("Version")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| {
                OtpError::Store(corrupt(format!(
                    "{user_id}: Version missing or not a number"
                )))
            })?;
        let state = match item.get("State").and_then(|v| v.as_s().ok()) {
            Some(json) => serde_json::from_str(json).map_err(|e| {
                OtpError::Store(corrupt(format!("{user_id}: State is not readable: {e}")))
            })?,
            None => UserState::default(),
        };
        Ok((state, Some(version)))
    }

    async fn save(
        &self,
        key: &str,
        state: &UserState,
        expected: Option<u64>,
    ) -> Result<bool, OtpError> {
        let user_id = self.item_key(key);
        let json = serde_json::to_string(state).map_err(|e| {
            OtpError::Store(ServiceError::new(
                "codes table",
                ErrorClass::Internal,
                e.to_string(),
            ))
        })?;
        let next = expected.map_or(1, |v| v + 1);
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("UserId", AttributeValue::S(user_id))
            .item("State", AttributeValue::S(json))
            .item("Version", AttributeValue::N(next.to_string()))
            .item(
                "ExpiresAt",
                AttributeValue::N((Utc::now().timestamp() + STATE_TTL_SECONDS).to_string()),
            );
        request = match expected {
            None => request.condition_expression("attribute_not_exists(UserId)"),
            Some(v) => request
                .condition_expression("Version = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(OtpError::Store(service_error("codes table", &e))),
        }
    }
}

/// Transactional SMS through SNS (delivered even to numbers that opted out of promotions).
#[derive(Debug, Clone)]
pub struct SnsSms {
    client: aws_sdk_sns::Client,
    sender_id: Option<String>,
}

impl SnsSms {
    pub fn new(client: aws_sdk_sns::Client, sender_id: Option<String>) -> Self {
        Self { client, sender_id }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, OtpError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| {
            OtpError::Sms(ServiceError::new(
                "SNS",
                ErrorClass::Internal,
                e.to_string(),
            ))
        })
}

impl Sms for SnsSms {
    async fn send(&self, phone: &str, text: &str) -> Result<(), OtpError> {
        let mut request = self
            .client
            .publish()
            .phone_number(phone)
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", attribute("Transactional")?);
        if let Some(sender) = &self.sender_id {
            request = request.message_attributes("AWS.SNS.SMS.SenderID", attribute(sender)?);
        }
        request
            .send()
            .await
            .map(|_| ())
            .map_err(|e| OtpError::Sms(service_error("SNS", &e)))
    }
}

/// IAM MFA through STS `GetSessionToken`; the session itself is thrown away.
///
/// STS accepts `GetSessionToken` only from IAM-user credentials, and only for that user's own
/// device: the client must carry the credentials of the IAM user that owns the devices.
#[derive(Debug, Clone)]
pub struct StsMfa {
    client: aws_sdk_sts::Client,
}

impl StsMfa {
    pub fn new(client: aws_sdk_sts::Client) -> Self {
        Self { client }
    }
}

impl MfaCheck for StsMfa {
    async fn check(&self, serial: &str, token: &str) -> MfaVerdict {
        use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
        let result = self
            .client
            .get_session_token()
            .serial_number(serial)
            .token_code(token)
            .duration_seconds(900)
            .send()
            .await;
        match result {
            Ok(_) => MfaVerdict::Valid,
            Err(e) => {
                let code = e.code().unwrap_or_default();
                let message = e.message().unwrap_or_default();
                let transport = matches!(
                    e,
                    SdkError::DispatchFailure(_)
                        | SdkError::TimeoutError(_)
                        | SdkError::ResponseError(_)
                );
                // A wrong code is AccessDenied "MultiFactorAuthentication failed ...". Role or
                // session credentials are AccessDenied too, but that is our misconfiguration,
                // never the user's wrong code.
                if code == "AccessDenied" && !message.contains("session credentials") && !transport
                {
                    MfaVerdict::Invalid
                } else {
                    tracing::warn!(code, error = %error_text(&e), "STS GetSessionToken unavailable");
                    MfaVerdict::Unavailable
                }
            }
        }
    }
}

pub use crate::config::KeySource;

/// A secret's string, read at init.
async fn read_secret(sdk: &aws_config::SdkConfig, id: &str) -> Result<String, ServiceError> {
    aws_sdk_secretsmanager::Client::new(sdk)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| {
            let mut error = service_error("Secrets Manager", &e);
            error.detail = format!("reading secret {id}: {}", error.detail);
            error
        })?
        .secret_string()
        .map(str::to_owned)
        .ok_or_else(|| misconfigured(format!("secret {id} has no SecretString")))
}

/// A secret that exists but cannot serve: a setting to fix.
fn misconfigured(detail: String) -> ServiceError {
    ServiceError::new("OTP configuration", ErrorClass::InvalidConfig, detail)
}

/// Reads the key once (at init). The secret's string is the key.
pub async fn load_key(
    sdk: &aws_config::SdkConfig,
    source: &KeySource,
) -> Result<HmacKey, ServiceError> {
    let text = match source {
        KeySource::SecretsManager(id) => read_secret(sdk, id).await?,
        KeySource::SsmParameter(name) => aws_sdk_ssm::Client::new(sdk)
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| {
                let mut error = service_error("SSM", &e);
                error.detail = format!("reading parameter {name}: {}", error.detail);
                error
            })?
            .parameter()
            .and_then(|p| p.value())
            .map(str::to_owned)
            .ok_or_else(|| misconfigured(format!("parameter {name} has no value")))?,
    };
    HmacKey::new(text.into_bytes()).map_err(|e| misconfigured(e.0))
}

/// An STS client for MFA checks: with the IAM user's access key from `secret_id` when given
/// (read once, at init), else with the function's own credentials.
pub async fn mfa_sts_client(
    sdk: &aws_config::SdkConfig,
    secret_id: Option<&str>,
) -> Result<aws_sdk_sts::Client, ServiceError> {
    let Some(id) = secret_id else {
        return Ok(aws_sdk_sts::Client::new(sdk));
    };
    let text = read_secret(sdk, id).await?;
    let keys: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
        misconfigured(format!(
            "secret {id} is not JSON with AccessKeyId and SecretAccessKey"
        ))
    })?;
    let field = |name: &str| {
        keys.get(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| misconfigured(format!("secret {id} has no {name}")))
    };
    let credentials = aws_credential_types::Credentials::new(
        field("AccessKeyId")?,
        field("SecretAccessKey")?,
        None,
        None,
        "mfa-credentials-secret",
    );
    let config = aws_sdk_sts::config::Builder::from(sdk)
        .credentials_provider(credentials)
        .build();
    Ok(aws_sdk_sts::Client::from_conf(config))
}

/// The service on AWS adapters.
pub type AwsOtp<C> =
    crate::Otp<DynamoProfiles, DynamoStore, SnsSms, StsMfa, crate::ports::OsDigits, C, SecretKey>;

/// The HMAC key in Secrets Manager or SSM, read on first use and kept for the container's life:
/// a cold start whose first answer needs no key (a bad request, the skill's lists) does not
/// wait for it. A missing or short key fails the request that needs it, classified
/// (`Misconfigured`, `AccessDenied`, …), and is read again by the next one.
#[derive(Debug)]
pub struct SecretKey {
    sdk: aws_config::SdkConfig,
    source: KeySource,
    key: tokio::sync::OnceCell<HmacKey>,
}

impl SecretKey {
    pub fn new(sdk: &aws_config::SdkConfig, source: KeySource) -> Self {
        Self {
            sdk: sdk.clone(),
            source,
            key: tokio::sync::OnceCell::new(),
        }
    }
}

impl crate::ports::KeyProvider for SecretKey {
    async fn key(&self) -> Result<&HmacKey, OtpError> {
        self.key
            .get_or_try_init(|| load_key(&self.sdk, &self.source))
            .await
            .map_err(OtpError::Key)
    }
}

/// The service on AWS adapters for a function's `wire`. The MFA user's access key, when
/// configured, is read here (a malformed one is a classified init failure); the HMAC key on
/// first use ([`SecretKey`]).
pub async fn from_config<C: fleet_core::Clock>(
    sdk: &aws_config::SdkConfig,
    config: &crate::config::OtpConfig,
    clock: C,
) -> Result<AwsOtp<C>, ServiceError> {
    let sts = mfa_sts_client(sdk, config.mfa_credentials_secret_id.as_deref()).await?;
    let key = SecretKey::new(sdk, config.key_source.clone());
    Ok(on_aws(sdk, config, key, sts, clock))
}

/// The service on AWS adapters.
pub fn on_aws<C: fleet_core::Clock, K: crate::ports::KeyProvider>(
    sdk: &aws_config::SdkConfig,
    config: &crate::config::OtpConfig,
    key: K,
    sts: aws_sdk_sts::Client,
    clock: C,
) -> crate::Otp<DynamoProfiles, DynamoStore, SnsSms, StsMfa, crate::ports::OsDigits, C, K> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    crate::Otp {
        profiles: DynamoProfiles::new(ddb.clone(), &config.profiles_table),
        store: DynamoStore::new(ddb, &config.codes_table, &config.key_prefix),
        sms: SnsSms::new(aws_sdk_sns::Client::new(sdk), config.sms_sender_id.clone()),
        mfa: StsMfa::new(sts),
        digits: crate::ports::OsDigits,
        clock,
        key,
        limits: config.limits.clone(),
    }
}
