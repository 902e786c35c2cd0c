//! The AWS adapters: the approvals table (DynamoDB), Step Functions (task answers, executions,
//! the activity), SES v2 and Secrets Manager. They own every SDK detail; errors become
//! `ServiceError`s through `fleet_core::aws::service_error`.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use fleet_core::aws::service_error;
use fleet_core::{ErrorClass, ServiceError};
use sha2::{Digest, Sha256};

use crate::email::Email;
use crate::model::{rfc3339, ApprovalRequest, Change, Decision, Pattern, Status, Verdict};
use crate::ports::{
    ActivityTask, ActivityTasks, ApprovalStore, Created, Execution, ExecutionStatus, Gone, Mailer,
    SecretSource, SendError, TaskCallbacks,
};

const DYNAMODB: &str = "DynamoDB";
const STATES: &str = "Step Functions";

fn internal(service: &'static str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::new(service, ErrorClass::Internal, e.to_string())
}

fn corrupt(id: &str, what: &str) -> ServiceError {
    ServiceError::new(
        DYNAMODB,
        ErrorClass::CorruptState,
        format!("approval item {id}: {what}"),
    )
}

/// The token index item's key: the token's SHA-256, never the token itself.
pub fn token_key(token: &str) -> String {
    format!("token#{}", hex::encode(Sha256::digest(token.as_bytes())))
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn time(at: DateTime<Utc>) -> AttributeValue {
    s(rfc3339(at))
}

/// The approvals table: `RequestId` (S) key; requests (`Kind = request`) and the token index
/// (`Kind = token`, `RequestId = token#sha256`, `Target`); `PurgeAt` (N) is the TTL attribute.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    retention: chrono::Duration,
}

impl DynamoStore {
    pub fn new(sdk: &SdkConfig, table: &str, retention: chrono::Duration) -> Self {
        Self::with_client(aws_sdk_dynamodb::Client::new(sdk), table, retention)
    }

    pub fn with_client(
        client: aws_sdk_dynamodb::Client,
        table: &str,
        retention: chrono::Duration,
    ) -> Self {
        Self {
            client,
            table: table.to_owned(),
            retention,
        }
    }

    fn purge_at(&self, request: &ApprovalRequest) -> AttributeValue {
        AttributeValue::N(
            (request.expires_at + self.retention)
                .timestamp()
                .to_string(),
        )
    }

    pub fn to_item(&self, r: &ApprovalRequest) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::new();
        item.insert("RequestId".into(), s(&r.id));
        item.insert("Kind".into(), s("request"));
        item.insert("Pattern".into(), s(r.pattern.as_str()));
        item.insert("TaskToken".into(), s(&r.task_token));
        item.insert("Workflow".into(), s(&r.workflow));
        item.insert("Approver".into(), s(&r.approver));
        item.insert("Subject".into(), s(&r.subject));
        let details: Vec<[&str; 2]> = r
            .details
            .iter()
            .map(|(k, v)| [k.as_str(), v.as_str()])
            .collect();
        item.insert(
            "Details".into(),
            s(serde_json::to_string(&details).unwrap_or_default()),
        );
        item.insert("CreatedAt".into(), time(r.created_at));
        item.insert("ExpiresAt".into(), time(r.expires_at));
        item.insert("Status".into(), s(r.status.as_str()));
        item.insert("PurgeAt".into(), self.purge_at(r));
        let optional = [
            ("Requester", r.requester.clone()),
            ("ExecutionArn", r.execution_arn.clone()),
            ("RemindAt", r.remind_at.map(rfc3339)),
            ("EmailSentAt", r.email_sent_at.map(rfc3339)),
            ("ReminderSentAt", r.reminder_sent_at.map(rfc3339)),
            ("DeliveredAt", r.delivered_at.map(rfc3339)),
            ("Note", r.note.clone()),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                item.insert(name.into(), s(v));
            }
        }
        if let Some(d) = &r.decision {
            for (name, value) in decision_attributes(d) {
                item.insert(name.into(), value);
            }
        }
        item
    }

    async fn get_raw(
        &self,
        key: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, ServiceError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("RequestId", s(key))
            .consistent_read(true)
            .send()
            .await
            .map(|o| o.item)
            .map_err(|e| service_error(DYNAMODB, &e))
    }
}

fn decision_attributes(d: &Decision) -> Vec<(&'static str, AttributeValue)> {
    let mut out = vec![
        ("Decision", s(d.verdict.as_str())),
        ("DecidedBy", s(&d.by)),
        ("DecidedAt", time(d.at)),
        ("Comment", s(&d.comment)),
    ];
    if let Some(ip) = &d.source_ip {
        out.push(("SourceIp", s(ip)));
    }
    if let Some(ua) = &d.user_agent {
        out.push(("UserAgent", s(ua)));
    }
    out
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn at(
    item: &HashMap<String, AttributeValue>,
    id: &str,
    name: &str,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    text(item, name)
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| corrupt(id, &format!("{name}: {e}")))
        })
        .transpose()
}

/// A stored request; anything missing or unreadable is `CorruptState`, naming the attribute.
pub fn from_item(item: &HashMap<String, AttributeValue>) -> Result<ApprovalRequest, ServiceError> {
    let id = text(item, "RequestId").unwrap_or("?").to_owned();
    let need = |name: &str| {
        text(item, name)
            .map(str::to_owned)
            .ok_or_else(|| corrupt(&id, &format!("{name} is missing")))
    };
    let need_at = |name: &str| {
        at(item, &id, name)?.ok_or_else(|| corrupt(&id, &format!("{name} is missing")))
    };
    let details: Vec<[String; 2]> = match text(item, "Details") {
        Some(json) => {
            serde_json::from_str(json).map_err(|e| corrupt(&id, &format!("Details: {e}")))?
        }
        None => Vec::new(),
    };
    let decision = match text(item, "Decision") {
        None => None,
        Some(v) => Some(Decision {
            verdict: Verdict::parse(v).ok_or_else(|| corrupt(&id, &format!("Decision {v:?}")))?,
            by: need("DecidedBy")?,
            at: need_at("DecidedAt")?,
            comment: text(item, "Comment").unwrap_or_default().to_owned(),
            source_ip: text(item, "SourceIp").map(str::to_owned),
            user_agent: text(item, "UserAgent").map(str::to_owned),
        }),
    };
    let status = need("Status")?;
    let pattern = need("Pattern")?;
    Ok(ApprovalRequest {
        pattern: Pattern::parse(&pattern)
            .ok_or_else(|| corrupt(&id, &format!("Pattern {pattern:?}")))?,
        task_token: need("TaskToken")?,
        workflow: need("Workflow")?,
        approver: text(item, "Approver").unwrap_or_default().to_owned(),
        requester: text(item, "Requester").map(str::to_owned),
        subject: need("Subject")?,
        details: details.into_iter().map(|[k, v]| (k, v)).collect(),
        execution_arn: text(item, "ExecutionArn").map(str::to_owned),
        created_at: need_at("CreatedAt")?,
        expires_at: need_at("ExpiresAt")?,
        remind_at: at(item, &id, "RemindAt")?,
        status: Status::parse(&status)
            .ok_or_else(|| corrupt(&id, &format!("Status {status:?}")))?,
        email_sent_at: at(item, &id, "EmailSentAt")?,
        reminder_sent_at: at(item, &id, "ReminderSentAt")?,
        decision,
        delivered_at: at(item, &id, "DeliveredAt")?,
        note: text(item, "Note").map(str::to_owned),
        id,
    })
}

/// An update expression with placeholders for every name (Status and Comment are reserved words).
#[derive(Default)]
struct Expression {
    sets: Vec<String>,
    removes: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn set(&mut self, attribute: &str, value: AttributeValue) {
        let (n, v) = (self.name(attribute), self.value(value));
        self.sets.push(format!("{n} = {v}"));
    }

    fn remove(&mut self, attribute: &str) {
        let n = self.name(attribute);
        self.removes.push(n);
    }

    fn update(&self) -> String {
        let mut parts = Vec::new();
        if !self.sets.is_empty() {
            parts.push(format!("SET {}", self.sets.join(", ")));
        }
        if !self.removes.is_empty() {
            parts.push(format!("REMOVE {}", self.removes.join(", ")));
        }
        parts.join(" ")
    }
}

impl ApprovalStore for DynamoStore {
    async fn create(&self, request: &ApprovalRequest) -> Result<Created, ServiceError> {
        let key = token_key(&request.task_token);
        let mut index = HashMap::new();
        index.insert("RequestId".to_owned(), s(&key));
        index.insert("Kind".to_owned(), s("token"));
        index.insert("Target".to_owned(), s(&request.id));
        index.insert("PurgeAt".to_owned(), self.purge_at(request));
        let put = |item: HashMap<String, AttributeValue>| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(RequestId)")
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(|e| internal(DYNAMODB, e))
        };
        let written = self
            .client
            .transact_write_items()
            .transact_items(put(self.to_item(request))?)
            .transact_items(put(index)?)
            .send()
            .await;
        match written {
            Ok(_) => Ok(Created::New),
            Err(e) => {
                let error = service_error(DYNAMODB, &e);
                if error.class != ErrorClass::Conflict {
                    return Err(error);
                }
                // The token is stored already (a retried invocation): its request.
                let target = self
                    .get_raw(&key)
                    .await?
                    .and_then(|item| text(&item, "Target").map(str::to_owned));
                match target {
                    Some(id) => self
                        .get(&id)
                        .await?
                        .map(|r| Created::Existing(Box::new(r)))
                        .ok_or_else(|| corrupt(&id, "the token index points to a missing request")),
                    None => Err(error),
                }
            }
        }
    }

    async fn get(&self, id: &str) -> Result<Option<ApprovalRequest>, ServiceError> {
        match self.get_raw(id).await? {
            Some(item) if text(&item, "Kind") == Some("request") => from_item(&item).map(Some),
            _ => Ok(None),
        }
    }

    async fn update(
        &self,
        id: &str,
        expected: Status,
        change: &Change,
    ) -> Result<bool, ServiceError> {
        let mut e = Expression::default();
        let status = e.name("Status");
        let expected_value = e.value(s(expected.as_str()));
        let mut condition = format!("{status} = {expected_value}");
        let next = change.next_status(expected);
        match change {
            Change::EmailSent { at } => e.set("EmailSentAt", time(*at)),
            Change::ReminderClaimed { at } => {
                let n = e.name("ReminderSentAt");
                condition.push_str(&format!(" AND attribute_not_exists({n})"));
                e.set("ReminderSentAt", time(*at));
            }
            Change::ReminderReleased => e.remove("ReminderSentAt"),
            Change::Decide(d) => {
                for (name, value) in decision_attributes(d) {
                    e.set(name, value);
                }
            }
            Change::Delivered { at } => {
                let n = e.name("DeliveredAt");
                condition.push_str(&format!(" AND attribute_not_exists({n})"));
                e.set("DeliveredAt", time(*at));
            }
            Change::Expire { reason } | Change::Refuse { reason } => e.set("Note", s(reason)),
        }
        if next != expected {
            e.set("Status", s(next.as_str()));
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("RequestId", s(id))
            .update_expression(e.update())
            .condition_expression(condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(err) => Err(service_error(DYNAMODB, &err)),
        }
    }

    async fn list(&self, statuses: &[Status]) -> Result<Vec<ApprovalRequest>, ServiceError> {
        let mut names = HashMap::new();
        names.insert("#s".to_owned(), "Status".to_owned());
        names.insert("#k".to_owned(), "Kind".to_owned());
        let mut values = HashMap::new();
        values.insert(":request".to_owned(), s("request"));
        let mut placeholders = Vec::new();
        for (i, status) in statuses.iter().enumerate() {
            let p = format!(":s{i}");
            values.insert(p.clone(), s(status.as_str()));
            placeholders.push(p);
        }
        let filter = format!("#k = :request AND #s IN ({})", placeholders.join(", "));
        let mut items = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .filter_expression(filter)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        while let Some(item) = items
            .try_next()
            .await
            .map_err(|e| service_error(DYNAMODB, &e))?
        {
            out.push(from_item(&item)?);
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }
}

/// `TaskTimedOut`, `TaskDoesNotExist` and `InvalidToken`: the token is no longer taken.
pub fn gone_from_code(code: Option<&str>) -> Option<Gone> {
    match code? {
        "TaskTimedOut" => Some(Gone::TaskTimedOut),
        "TaskDoesNotExist" => Some(Gone::TaskDoesNotExist),
        "InvalidToken" => Some(Gone::InvalidToken),
        _ => None,
    }
}

/// `gone` reads the operation's modelled errors; the code is the fallback.
fn send_error<E>(
    err: &aws_sdk_sfn::error::SdkError<E, aws_sdk_sfn::config::http::HttpResponse>,
    gone: impl Fn(&E) -> Option<Gone>,
) -> SendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err
        .as_service_error()
        .and_then(gone)
        .or_else(|| gone_from_code(err.code()))
    {
        Some(gone) => SendError::Gone(gone),
        None => SendError::Service(service_error(STATES, err)),
    }
}

/// `SendTaskSuccess`, `SendTaskFailure`, `DescribeExecution`.
#[derive(Debug, Clone)]
pub struct SfnTasks {
    client: aws_sdk_sfn::Client,
}

impl SfnTasks {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self::with_client(aws_sdk_sfn::Client::new(sdk))
    }

    pub fn with_client(client: aws_sdk_sfn::Client) -> Self {
        Self { client }
    }
}

/// Step Functions takes an error name of ≤ 256 and a cause of ≤ 32,768 characters.
fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl TaskCallbacks for SfnTasks {
    async fn send_success(&self, token: &str, output: &str) -> Result<(), SendError> {
        self.client
            .send_task_success()
            .task_token(token)
            .output(output)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                send_error(&e, |se| {
                    if se.is_task_timed_out() {
                        Some(Gone::TaskTimedOut)
                    } else if se.is_task_does_not_exist() {
                        Some(Gone::TaskDoesNotExist)
                    } else if se.is_invalid_token() {
                        Some(Gone::InvalidToken)
                    } else {
                        None
                    }
                })
            })
    }

    async fn send_failure(&self, token: &str, error: &str, cause: &str) -> Result<(), SendError> {
        self.client
            .send_task_failure()
            .task_token(token)
            .error(clip(error, 256))
            .cause(clip(cause, 32_768))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                send_error(&e, |se| {
                    if se.is_task_timed_out() {
                        Some(Gone::TaskTimedOut)
                    } else if se.is_task_does_not_exist() {
                        Some(Gone::TaskDoesNotExist)
                    } else if se.is_invalid_token() {
                        Some(Gone::InvalidToken)
                    } else {
                        None
                    }
                })
            })
    }

    async fn describe_execution(&self, execution_arn: &str) -> Result<Execution, ServiceError> {
        use aws_sdk_sfn::types::ExecutionStatus as S;
        let out = self
            .client
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .map_err(|e| service_error(STATES, &e))?;
        Ok(Execution {
            status: match out.status() {
                S::Running => ExecutionStatus::Running,
                S::Succeeded => ExecutionStatus::Succeeded,
                S::Failed => ExecutionStatus::Failed,
                S::TimedOut => ExecutionStatus::TimedOut,
                S::Aborted => ExecutionStatus::Aborted,
                _ => ExecutionStatus::Other,
            },
            output: out.output().map(str::to_owned),
            error: out.error().map(str::to_owned),
        })
    }
}

/// `GetActivityTask` on one activity. The client waits 70 s for an answer: Step Functions holds
/// the poll for up to 60 s.
#[derive(Debug, Clone)]
pub struct SfnActivity {
    client: aws_sdk_sfn::Client,
    activity_arn: String,
    worker_name: String,
}

impl SfnActivity {
    pub fn new(sdk: &SdkConfig, activity_arn: String, worker_name: String) -> Self {
        let timeouts = aws_sdk_sfn::config::timeout::TimeoutConfig::builder()
            .read_timeout(StdDuration::from_secs(70))
            .operation_attempt_timeout(StdDuration::from_secs(75))
            .build();
        let config = aws_sdk_sfn::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build();
        Self::with_client(
            aws_sdk_sfn::Client::from_conf(config),
            activity_arn,
            worker_name,
        )
    }

    pub fn with_client(
        client: aws_sdk_sfn::Client,
        activity_arn: String,
        worker_name: String,
    ) -> Self {
        Self {
            client,
            activity_arn,
            worker_name,
        }
    }
}

impl ActivityTasks for SfnActivity {
    async fn next_task(&self) -> Result<Option<ActivityTask>, ServiceError> {
        let out = self
            .client
            .get_activity_task()
            .activity_arn(&self.activity_arn)
            .worker_name(clip(&self.worker_name, 80))
            .send()
            .await
            .map_err(|e| service_error(STATES, &e))?;
        // No task during the poll: an empty (or absent) token.
        Ok(out
            .task_token()
            .filter(|t| !t.is_empty())
            .map(|token| ActivityTask {
                token: token.to_owned(),
                input: out.input().unwrap_or("{}").to_owned(),
            }))
    }
}

/// SES v2 `SendEmail` with HTML and text parts.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
}

impl SesMailer {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self::with_client(aws_sdk_sesv2::Client::new(sdk))
    }

    pub fn with_client(client: aws_sdk_sesv2::Client) -> Self {
        Self { client }
    }
}

impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<(), ServiceError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| internal("SES", e))
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .html(content(&email.html)?)
                    .text(content(&email.text)?)
                    .build(),
            )
            .build();
        self.client
            .send_email()
            .from_email_address(&email.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| service_error("SES", &e))
    }
}

/// Secrets Manager `GetSecretValue`.
#[derive(Debug, Clone)]
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            client: aws_sdk_secretsmanager::Client::new(sdk),
        }
    }
}

impl SecretSource for SecretsManager {
    async fn secret_string(&self, id: &str) -> Result<String, ServiceError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| service_error("Secrets Manager", &e))?;
        out.secret_string().map(str::to_owned).ok_or_else(|| {
            ServiceError::new(
                "Secrets Manager",
                ErrorClass::InvalidConfig,
                format!("secret {id} has no string value"),
            )
        })
    }
}
