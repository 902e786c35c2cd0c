//! The AWS adapters. They own every SDK detail and map SDK errors with
//! `fleet_core::aws::service_error`; the domain sees only the ports' types.

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use fleet_core::aws::service_error;
use fleet_core::{Env, ErrorClass, HandlerError, ServiceError, SnsNotifier};
use serde_json::Value;

use crate::call::{outcome_fields, Begin, CallRecord, NewCall, Outcome, Status};
use crate::config::{AnalyserConfig, StarterConfig};
use crate::ports::*;
use crate::sentiment::{Label, Scores};
use crate::{Analyser, Starter};

fn internal(service: &'static str, detail: impl Into<String>) -> ServiceError {
    ServiceError::new(service, ErrorClass::Internal, detail)
}

// ---------------------------------------------------------------------------------------------
// S3
// ---------------------------------------------------------------------------------------------

/// The recordings bucket.
#[derive(Debug, Clone)]
pub struct S3Objects {
    pub client: aws_sdk_s3::Client,
}

impl S3Objects {
    pub fn new(sdk: &SdkConfig) -> Self {
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(fleet_core::aws::s3_force_path_style(sdk))
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(config),
        }
    }
}

async fn collect(body: aws_sdk_s3::primitives::ByteStream) -> Result<Vec<u8>, ServiceError> {
    body.collect()
        .await
        .map(|b| b.into_bytes().to_vec())
        .map_err(|e| {
            ServiceError::new(
                "S3",
                ErrorClass::Unavailable,
                format!("reading the body: {e}"),
            )
        })
}

impl Objects for S3Objects {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectHead>, ServiceError> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectHead {
                size: out
                    .content_length()
                    .and_then(|l| u64::try_from(l).ok())
                    .unwrap_or(0),
                etag: out.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
                version_id: out.version_id().map(str::to_owned),
                content_language: out.content_language().map(str::to_owned),
                metadata: out
                    .metadata()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect(),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(service_error("S3", &e)),
        }
    }

    async fn read_prefix(
        &self,
        bucket: &str,
        key: &str,
        len: u64,
    ) -> Result<Vec<u8>, ServiceError> {
        let range = format!("bytes=0-{}", len.saturating_sub(1));
        match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .range(range)
            .send()
            .await
        {
            Ok(out) => {
                let mut bytes = collect(out.body).await?;
                bytes.truncate(usize::try_from(len).unwrap_or(usize::MAX));
                Ok(bytes)
            }
            // An empty object has no byte 0.
            Err(e) if aws_sdk_s3::error::ProvideErrorMetadata::code(&e) == Some("InvalidRange") => {
                Ok(Vec::new())
            }
            Err(e) => Err(service_error("S3", &e)),
        }
    }

    async fn read_text(&self, bucket: &str, key: &str) -> Result<Option<String>, ServiceError> {
        match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = collect(out.body).await?;
                String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| internal("S3", format!("{key} is not UTF-8")))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(service_error("S3", &e)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Transcribe
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct TranscribeJobs {
    pub client: aws_sdk_transcribe::Client,
}

impl Transcription for TranscribeJobs {
    async fn start(&self, job: &JobRequest) -> Result<Started, ServiceError> {
        use aws_sdk_transcribe::types::{
            ContentRedaction, JobExecutionSettings, LanguageCode, Media, MediaFormat,
            RedactionOutput, RedactionType, Settings,
        };
        let settings = match job.speakers {
            Speakers::Labels(n) => Settings::builder()
                .show_speaker_labels(true)
                .max_speaker_labels(i32::from(n)),
            Speakers::Channels => Settings::builder().channel_identification(true),
        }
        .build();
        let mut request = self
            .client
            .start_transcription_job()
            .transcription_job_name(&job.name)
            .media(Media::builder().media_file_uri(&job.media_uri).build())
            .media_format(MediaFormat::from(job.format.media_format()))
            .output_bucket_name(&job.output_bucket)
            .output_key(&job.output_key)
            .settings(settings)
            .job_execution_settings(
                JobExecutionSettings::builder()
                    .allow_deferred_execution(true)
                    .data_access_role_arn(&job.data_access_role_arn)
                    .build(),
            );
        request = match &job.language {
            Some(code) => request.language_code(LanguageCode::from(code.as_str())),
            None => request.identify_language(true).set_language_options(Some(
                job.language_options
                    .iter()
                    .map(|c| LanguageCode::from(c.as_str()))
                    .collect(),
            )),
        };
        if job.redact_pii {
            let redaction = ContentRedaction::builder()
                .redaction_type(RedactionType::Pii)
                .redaction_output(RedactionOutput::Redacted)
                .build()
                .map_err(|e| internal("Transcribe", e.to_string()))?;
            request = request.content_redaction(redaction);
        }
        match request.send().await {
            Ok(_) => Ok(Started::Started),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                Ok(Started::AlreadyExists)
            }
            Err(e) => Err(service_error("Transcribe", &e)),
        }
    }

    async fn get(&self, name: &str) -> Result<Option<JobState>, ServiceError> {
        use aws_sdk_transcribe::types::TranscriptionJobStatus as S;
        let out = match self
            .client
            .get_transcription_job()
            .transcription_job_name(name)
            .send()
            .await
        {
            Ok(out) => out,
            // An unknown job is a BadRequestException "The requested job couldn't be found".
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(aws_sdk_transcribe::operation::get_transcription_job::GetTranscriptionJobError::BadRequestException(b))
                        if b.message().is_some_and(|m| m.contains("couldn't be found") || m.contains("could not be found"))
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(service_error("Transcribe", &e)),
        };
        let Some(job) = out.transcription_job() else {
            return Ok(None);
        };
        let status = match job.transcription_job_status() {
            Some(S::Queued) => JobStatus::Queued,
            Some(S::InProgress) => JobStatus::InProgress,
            Some(S::Completed) => JobStatus::Completed,
            Some(S::Failed) => JobStatus::Failed,
            other => {
                return Err(internal(
                    "Transcribe",
                    format!("job {name}: unknown status {other:?}"),
                ))
            }
        };
        Ok(Some(JobState {
            status,
            failure_reason: job.failure_reason().map(str::to_owned),
            language_code: job.language_code().map(|c| c.as_str().to_owned()),
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Comprehend and Translate (no resource ARNs: IAM grants them on "*")
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct ComprehendScorer {
    pub client: aws_sdk_comprehend::Client,
}

impl SentimentScorer for ComprehendScorer {
    async fn batch(
        &self,
        texts: &[String],
        language: &str,
    ) -> Result<Vec<Result<Scores, ItemFailure>>, ServiceError> {
        if texts.is_empty() || texts.len() > MAX_BATCH {
            return Err(internal(
                "Comprehend",
                format!("a batch takes 1-{MAX_BATCH} documents, not {}", texts.len()),
            ));
        }
        let out = self
            .client
            .batch_detect_sentiment()
            .set_text_list(Some(texts.to_vec()))
            .language_code(aws_sdk_comprehend::types::LanguageCode::from(language))
            .send()
            .await
            .map_err(|e| service_error("Comprehend", &e))?;
        let mut results: Vec<Option<Result<Scores, ItemFailure>>> = vec![None; texts.len()];
        for item in out.result_list() {
            let slot = item
                .index()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| results.get_mut(i));
            if let (Some(slot), Some(s)) = (slot, item.sentiment_score()) {
                let f = |v: Option<f32>| f64::from(v.unwrap_or_default());
                *slot = Some(Ok(Scores {
                    positive: f(s.positive()),
                    negative: f(s.negative()),
                    neutral: f(s.neutral()),
                    mixed: f(s.mixed()),
                }));
            }
        }
        for error in out.error_list() {
            let slot = error
                .index()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| results.get_mut(i));
            if let Some(slot) = slot {
                *slot = Some(Err(ItemFailure {
                    code: error.error_code().unwrap_or("UNKNOWN").to_owned(),
                    message: error.error_message().unwrap_or_default().to_owned(),
                }));
            }
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(ItemFailure {
                        code: "MISSING".into(),
                        message:
                            "Comprehend returned neither a result nor an error for this document"
                                .into(),
                    })
                })
            })
            .collect())
    }
}

#[derive(Debug, Clone)]
pub struct TranslateText {
    pub client: aws_sdk_translate::Client,
}

impl Translator for TranslateText {
    async fn translate(&self, text: &str, from: &str, to: &str) -> Result<String, ServiceError> {
        if text.len() > MAX_TRANSLATE_BYTES {
            return Err(internal(
                "Translate",
                format!(
                    "{} bytes is over the {MAX_TRANSLATE_BYTES}-byte limit",
                    text.len()
                ),
            ));
        }
        let out = self
            .client
            .translate_text()
            .text(text)
            .source_language_code(from)
            .target_language_code(to)
            .send()
            .await
            .map_err(|e| service_error("Translate", &e))?;
        Ok(out.translated_text().to_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// EventBridge
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct EventBridgeAnnouncer {
    pub client: aws_sdk_eventbridge::Client,
    pub bus: String,
}

impl Announcer for EventBridgeAnnouncer {
    async fn announce(&self, detail_type: &str, detail: &Value) -> Result<(), ServiceError> {
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(crate::analyser::SOURCE)
            .detail_type(detail_type)
            .detail(detail.to_string())
            .build();
        let out = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| service_error("EventBridge", &e))?;
        // PutEvents answers 200 with per-entry failures.
        if out.failed_entry_count() > 0 {
            let failed = out.entries().iter().find(|e| e.error_code().is_some());
            let code = failed.and_then(|e| e.error_code()).unwrap_or("Unknown");
            let message = failed.and_then(|e| e.error_message()).unwrap_or_default();
            let class = match code {
                "ThrottlingException" => ErrorClass::Throttled,
                "InternalFailure" | "InternalException" => ErrorClass::Unavailable,
                "AccessDeniedException" => ErrorClass::AccessDenied,
                _ => ErrorClass::Internal,
            };
            return Err(ServiceError::new(
                "EventBridge",
                class,
                format!("{code}: {message}"),
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// DynamoDB: the calls table
// ---------------------------------------------------------------------------------------------

/// Table `CallId` (S) with a `ByStatus` index (`Status`, `CreatedAt`). Daily counters share the
/// table as `#started#YYYY-MM-DD` items with `Count` and a TTL (`ExpiresAt`).
#[derive(Debug, Clone)]
pub struct DynamoCalls {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

pub const STATUS_INDEX: &str = "ByStatus";
/// Counters expire after a week.
const COUNTER_TTL_SECONDS: i64 = 7 * 24 * 3600;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// JSON as DynamoDB attributes (null is left out).
pub fn json_to_attr(value: &Value) -> Option<AttributeValue> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(x) => AttributeValue::N(x.to_string()),
        Value::String(x) => AttributeValue::S(x.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().filter_map(json_to_attr).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .filter_map(|(k, v)| json_to_attr(v).map(|a| (k.clone(), a)))
                .collect(),
        ),
    })
}

/// DynamoDB attributes as JSON.
pub fn attr_to_json(attr: &AttributeValue) -> Value {
    match attr {
        AttributeValue::S(x) => Value::String(x.clone()),
        AttributeValue::N(x) => x
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| x.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(x.clone())),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(items) => Value::Array(items.iter().map(attr_to_json).collect()),
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), attr_to_json(v)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// A stored item as a call; `CorruptState` when it cannot be one.
pub fn record_from_item(
    item: &HashMap<String, AttributeValue>,
) -> Result<CallRecord, ServiceError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let call_id = text("CallId").unwrap_or_default();
    let corrupt = |detail: String| {
        ServiceError::new(
            "DynamoDB",
            ErrorClass::CorruptState,
            format!("call {call_id}: {detail}"),
        )
    };
    let status_text = text("Status").ok_or_else(|| corrupt("no Status".into()))?;
    let status = Status::parse(&status_text)
        .ok_or_else(|| corrupt(format!("unknown Status {status_text:?}")))?;
    let attempt = match item.get("Attempt").map(|v| v.as_n()) {
        Some(Ok(v)) => v.parse().map_err(|_| corrupt(format!("Attempt {v:?}")))?,
        _ => 1,
    };
    let details = Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), attr_to_json(v)))
            .collect(),
    );
    Ok(CallRecord {
        status: Some(status),
        job_name: text("JobName").unwrap_or_default(),
        attempt,
        bucket: text("Bucket").unwrap_or_default(),
        key: text("Key").unwrap_or_default(),
        etag: text("ETag").unwrap_or_default(),
        version_id: text("VersionId"),
        language: text("Language"),
        reason: text("Reason"),
        created_at: text("CreatedAt").unwrap_or_default(),
        updated_at: text("UpdatedAt").unwrap_or_default(),
        sentiment: text("Sentiment").as_deref().and_then(Label::parse),
        negative: details
            .get("Scores")
            .and_then(|s| s.get("Negative"))
            .and_then(Value::as_f64),
        announce_reason: text("AnnounceReason"),
        event_sent_at: text("EventSentAt"),
        announced_at: text("AnnouncedAt"),
        details,
        call_id,
    })
}

fn call_item(
    call: &NewCall,
    status: Status,
    reason: Option<&str>,
) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        ("CallId".to_owned(), s(&call.call_id)),
        ("Status".to_owned(), s(status.as_str())),
        ("JobName".to_owned(), s(&call.job_name)),
        ("Attempt".to_owned(), n(call.attempt)),
        ("Bucket".to_owned(), s(&call.bucket)),
        ("Key".to_owned(), s(&call.key)),
        ("ETag".to_owned(), s(&call.etag)),
        ("Redacted".to_owned(), AttributeValue::Bool(call.redacted)),
        ("CreatedAt".to_owned(), s(&call.at)),
        ("UpdatedAt".to_owned(), s(&call.at)),
    ]);
    if let Some(v) = &call.version_id {
        item.insert("VersionId".into(), s(v));
    }
    if let Some(l) = &call.language {
        item.insert("Language".into(), s(l));
    }
    if let Some(r) = reason {
        item.insert("Reason".into(), s(r));
    }
    item
}

fn build_error(e: impl std::fmt::Display) -> ServiceError {
    internal("DynamoDB", e.to_string())
}

impl DynamoCalls {
    /// Sets `attribute` of an existing call once (`false`: no such call, or set already).
    async fn set_once(
        &self,
        call_id: &str,
        attribute: &str,
        at: &str,
    ) -> Result<bool, ServiceError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("CallId", s(call_id))
            .update_expression(format!("SET {attribute} = :at"))
            .condition_expression(format!(
                "attribute_exists(CallId) AND attribute_not_exists({attribute})"
            ))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        conditional_write(result)
    }

    fn counter_update(&self, day: &str, cap: u32) -> Result<TransactWriteItem, ServiceError> {
        let expires = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map(|d| {
                d.and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()
                    .timestamp()
                    + COUNTER_TTL_SECONDS
            })
            .unwrap_or_default();
        let update = Update::builder()
            .table_name(&self.table)
            .key("CallId", s(format!("#started#{day}")))
            .update_expression("ADD #count :one SET ExpiresAt = :expires")
            .condition_expression("attribute_not_exists(#count) OR #count < :cap")
            .expression_attribute_names("#count", "Count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cap", n(cap))
            .expression_attribute_values(":expires", n(expires))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs a (call write, counter) transaction: which of the two conditions failed.
    async fn transact(
        &self,
        call_id: &str,
        first: TransactWriteItem,
        day: &str,
        cap: u32,
    ) -> Result<Begin, ServiceError> {
        let result = self
            .client
            .transact_write_items()
            .transact_items(first)
            .transact_items(self.counter_update(day, cap)?)
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Begin::Started),
            Err(e) => e,
        };
        let reasons = match err.as_service_error() {
            Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                c.cancellation_reasons().to_vec()
            }
            _ => return Err(service_error("DynamoDB", &err)),
        };
        let failed =
            |i: usize| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
        if failed(0) {
            let record = match reasons.first().and_then(|r| r.item()) {
                Some(item) => record_from_item(item)?,
                None => self.get(call_id).await?.unwrap_or_default(),
            };
            return Ok(Begin::Exists(Box::new(record)));
        }
        if failed(1) {
            return Ok(Begin::OverCap);
        }
        Err(service_error("DynamoDB", &err))
    }
}

/// A conditional write's answer: `true` when it was applied, `false` when its condition did not
/// hold (`ConditionalCheckFailedException`), any other failure classified.
fn conditional_write<O, E>(
    result: Result<O, aws_sdk_dynamodb::error::SdkError<E, aws_smithy_runtime_api_http::Response>>,
) -> Result<bool, ServiceError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .and_then(|s| s.code())
                .is_some_and(|c| c == "ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(service_error("DynamoDB", &e)),
    }
}

mod aws_smithy_runtime_api_http {
    pub use aws_sdk_dynamodb::config::http::HttpResponse as Response;
}

impl Calls for DynamoCalls {
    async fn begin(&self, call: &NewCall, day: &str, cap: u32) -> Result<Begin, ServiceError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(call_item(call, Status::Transcribing, None)))
            .condition_expression("attribute_not_exists(CallId) OR #status = :waiting")
            .expression_attribute_names("#status", "Status")
            .expression_attribute_values(":waiting", s(Status::Waiting.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        self.transact(
            &call.call_id,
            TransactWriteItem::builder().put(put).build(),
            day,
            cap,
        )
        .await
    }

    async fn restart(
        &self,
        call: &NewCall,
        expected_job: &str,
        day: &str,
        cap: u32,
    ) -> Result<Begin, ServiceError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("CallId", s(&call.call_id))
            .update_expression(
                "SET #status = :transcribing, JobName = :job, Attempt = :attempt, UpdatedAt = :at, Redacted = :redacted REMOVE Reason",
            )
            .condition_expression("JobName = :expected AND #status IN (:transcribing, :failed)")
            .expression_attribute_names("#status", "Status")
            .expression_attribute_values(":transcribing", s(Status::Transcribing.as_str()))
            .expression_attribute_values(":failed", s(Status::Failed.as_str()))
            .expression_attribute_values(":job", s(&call.job_name))
            .expression_attribute_values(":attempt", n(call.attempt))
            .expression_attribute_values(":at", s(&call.at))
            .expression_attribute_values(":redacted", AttributeValue::Bool(call.redacted))
            .expression_attribute_values(":expected", s(expected_job))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        self.transact(
            &call.call_id,
            TransactWriteItem::builder().update(update).build(),
            day,
            cap,
        )
        .await
    }

    async fn wait(&self, call: &NewCall, reason: &str) -> Result<bool, ServiceError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(call_item(call, Status::Waiting, Some(reason))))
            .condition_expression("attribute_not_exists(CallId) OR #status = :waiting")
            .expression_attribute_names("#status", "Status")
            .expression_attribute_values(":waiting", s(Status::Waiting.as_str()))
            .send()
            .await;
        conditional_write(result)
    }

    async fn reject(&self, call: &NewCall, reason: &str) -> Result<bool, ServiceError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(call_item(call, Status::Rejected, Some(reason))))
            .condition_expression("attribute_not_exists(CallId)")
            .send()
            .await;
        conditional_write(result)
    }

    async fn get(&self, call_id: &str) -> Result<Option<CallRecord>, ServiceError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("CallId", s(call_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| service_error("DynamoDB", &e))?;
        out.item().map(record_from_item).transpose()
    }

    async fn finish(
        &self,
        call_id: &str,
        job_name: &str,
        outcome: &Outcome,
        at: &str,
    ) -> Result<bool, ServiceError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("CallId", s(call_id))
            .condition_expression("#status = :transcribing AND JobName = :job")
            .expression_attribute_names("#status", "Status")
            .expression_attribute_values(":transcribing", s(Status::Transcribing.as_str()))
            .expression_attribute_values(":job", s(job_name))
            .expression_attribute_values(":new", s(outcome.status().as_str()))
            .expression_attribute_values(":at", s(at));
        let mut sets = vec!["#status = :new".to_owned(), "UpdatedAt = :at".to_owned()];
        for (i, (name, value)) in outcome_fields(outcome).iter().enumerate() {
            if let Some(attr) = json_to_attr(value) {
                request = request
                    .expression_attribute_names(format!("#f{i}"), name)
                    .expression_attribute_values(format!(":f{i}"), attr);
                sets.push(format!("#f{i} = :f{i}"));
            }
        }
        let result = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await;
        conditional_write(result)
    }

    async fn mark_event_sent(&self, call_id: &str, at: &str) -> Result<bool, ServiceError> {
        self.set_once(call_id, "EventSentAt", at).await
    }

    async fn mark_announced(&self, call_id: &str, at: &str) -> Result<bool, ServiceError> {
        self.set_once(call_id, "AnnouncedAt", at).await
    }

    async fn by_status(
        &self,
        status: Status,
        limit: usize,
    ) -> Result<Vec<CallRecord>, ServiceError> {
        let mut items = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(STATUS_INDEX)
            .key_condition_expression("#status = :status")
            .expression_attribute_names("#status", "Status")
            .expression_attribute_values(":status", s(status.as_str()))
            .into_paginator()
            .page_size(i32::try_from(limit.clamp(1, 1000)).unwrap_or(1000))
            .items()
            .send();
        let mut out = Vec::new();
        while out.len() < limit {
            match items
                .try_next()
                .await
                .map_err(|e| service_error("DynamoDB", &e))?
            {
                Some(item) => out.push(record_from_item(&item)?),
                None => break,
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------

pub type AwsStarter = Starter<S3Objects, TranscribeJobs, DynamoCalls>;
pub type AwsAnalyser = Analyser<
    S3Objects,
    TranscribeJobs,
    ComprehendScorer,
    TranslateText,
    DynamoCalls,
    EventBridgeAnnouncer,
    SnsNotifier,
>;

pub async fn wire_starter(
    sdk: &SdkConfig,
    config: StarterConfig,
    env: Env,
) -> Result<AwsStarter, HandlerError> {
    Ok(Starter {
        objects: S3Objects::new(sdk),
        transcription: TranscribeJobs {
            client: aws_sdk_transcribe::Client::new(sdk),
        },
        calls: DynamoCalls {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table: config.table.clone(),
        },
        clock: Arc::clone(&env.clock),
        config,
    })
}

pub async fn wire_analyser(
    sdk: &SdkConfig,
    config: AnalyserConfig,
    env: Env,
) -> Result<AwsAnalyser, HandlerError> {
    Ok(Analyser {
        objects: S3Objects::new(sdk),
        transcription: TranscribeJobs {
            client: aws_sdk_transcribe::Client::new(sdk),
        },
        scorer: ComprehendScorer {
            client: aws_sdk_comprehend::Client::new(sdk),
        },
        translator: TranslateText {
            client: aws_sdk_translate::Client::new(sdk),
        },
        calls: DynamoCalls {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table: config.table.clone(),
        },
        announcer: EventBridgeAnnouncer {
            client: aws_sdk_eventbridge::Client::new(sdk),
            bus: config.event_bus.clone(),
        },
        manager: SnsNotifier::for_topic(sdk, config.manager_topic_arn.clone()),
        clock: Arc::clone(&env.clock),
        config,
    })
}
