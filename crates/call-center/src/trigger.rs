//! The events the two functions receive, parsed through `fleet_core::event::parse` into their
//! `aws_lambda_events` types and then into the domain's triggers.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::s3::S3Event;
use fleet_core::{event, HandlerError};
use serde::Deserialize;
use serde_json::Value;

use crate::keys::decode_s3_key;

/// An object was created (S3 `ObjectCreated:*`), key decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    pub bucket: String,
    pub key: String,
    pub size: Option<u64>,
    /// Without quotes.
    pub etag: String,
    pub version_id: Option<String>,
}

impl ObjectCreated {
    /// The object's identity for naming: its version when the bucket is versioned, else its ETag.
    pub fn version_or_etag(&self) -> &str {
        self.version_id
            .as_deref()
            .filter(|v| !v.is_empty() && *v != "null")
            .unwrap_or(&self.etag)
    }
}

/// What the starter is invoked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StarterTrigger {
    Objects(Vec<ObjectCreated>),
    /// The daily schedule: start calls that waited for the cap.
    Sweep,
    /// `s3:TestEvent`, sent when a notification is configured: nothing to do.
    Test,
}

/// What the analyser is invoked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalyserTrigger {
    Objects(Vec<ObjectCreated>),
    /// EventBridge "Transcribe Job State Change" with status FAILED.
    JobFailed {
        job_name: String,
    },
    Test,
}

#[derive(Deserialize)]
struct TranscribeDetail {
    #[serde(rename = "TranscriptionJobName")]
    job_name: String,
    #[serde(rename = "TranscriptionJobStatus")]
    status: String,
}

fn is_test_event(payload: &Value) -> bool {
    payload.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

fn objects(mut payload: Value) -> Result<Vec<ObjectCreated>, HandlerError> {
    // `aws_lambda_events` requires `userIdentity` and `requestParameters`, which S3 always sends
    // but the local stand-in leaves out; neither is used here.
    if let Some(records) = payload.get_mut("Records").and_then(Value::as_array_mut) {
        for record in records.iter_mut().filter_map(Value::as_object_mut) {
            for field in ["userIdentity", "requestParameters"] {
                record
                    .entry(field)
                    .or_insert_with(|| Value::Object(serde_json::Map::new()));
            }
        }
    }
    let s3: S3Event = event::parse(payload, "an S3 event")?;
    let mut out = Vec::with_capacity(s3.records.len());
    for (i, record) in s3.records.into_iter().enumerate() {
        let name = record.event_name.unwrap_or_default();
        if !name.starts_with("ObjectCreated:") {
            return Err(HandlerError::invalid_event(format!(
                "Records[{i}]: {name:?} is not an ObjectCreated event"
            )));
        }
        let bucket = record.s3.bucket.name.unwrap_or_default();
        let raw_key = record.s3.object.key.unwrap_or_default();
        let key = decode_s3_key(&raw_key).map_err(|e| {
            HandlerError::invalid_event(format!("Records[{i}].s3.object.key {raw_key:?}: {e}"))
        })?;
        let etag = record
            .s3
            .object
            .e_tag
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        if bucket.is_empty() || (etag.is_empty() && record.s3.object.version_id.is_none()) {
            return Err(HandlerError::invalid_event(format!(
                "Records[{i}]: the bucket name, or both eTag and versionId, are missing"
            )));
        }
        out.push(ObjectCreated {
            bucket,
            key,
            size: record.s3.object.size.and_then(|s| u64::try_from(s).ok()),
            etag,
            version_id: record.s3.object.version_id.filter(|v| !v.is_empty()),
        });
    }
    Ok(out)
}

pub fn starter(payload: Value) -> Result<StarterTrigger, HandlerError> {
    if is_test_event(&payload) {
        return Ok(StarterTrigger::Test);
    }
    if payload.get("detail-type").is_some() {
        let e: EventBridgeEvent = event::parse(payload, "an EventBridge event")?;
        return match e.detail_type.as_str() {
            "Scheduled Event" => Ok(StarterTrigger::Sweep),
            other => Err(HandlerError::invalid_event(format!(
                "the starter takes S3 events and the daily schedule, not {other:?}"
            ))),
        };
    }
    objects(payload).map(StarterTrigger::Objects)
}

pub fn analyser(payload: Value) -> Result<AnalyserTrigger, HandlerError> {
    if is_test_event(&payload) {
        return Ok(AnalyserTrigger::Test);
    }
    if payload.get("detail-type").is_some() {
        let e: EventBridgeEvent<Value> = event::parse(payload, "an EventBridge event")?;
        if e.source != "aws.transcribe" || e.detail_type != "Transcribe Job State Change" {
            return Err(HandlerError::invalid_event(format!(
                "the analyser takes Transcribe job state changes, not {:?} from {:?}",
                e.detail_type, e.source
            )));
        }
        let detail: TranscribeDetail = event::parse(e.detail, "a Transcribe job state change")?;
        if detail.status != "FAILED" {
            return Err(HandlerError::invalid_event(format!(
                "job {}: the rule sends only FAILED jobs, got {}",
                detail.job_name, detail.status
            )));
        }
        return Ok(AnalyserTrigger::JobFailed {
            job_name: detail.job_name,
        });
    }
    objects(payload).map(AnalyserTrigger::Objects)
}
