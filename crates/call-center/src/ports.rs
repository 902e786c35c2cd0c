//! The ports the two functions run on. Domain types only: the AWS adapters (`aws.rs`) own every
//! SDK detail, the in-memory ones (`memory.rs`) behave like AWS where the domain relies on it.

use std::collections::BTreeMap;
use std::future::Future;

use fleet_core::ServiceError;

use crate::audio::AudioFormat;
use crate::call::{Begin, CallRecord, NewCall, Outcome};
use crate::sentiment::Scores;

/// What `HeadObject` tells about a recording.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectHead {
    pub size: u64,
    /// Without the quotes S3 puts around it.
    pub etag: String,
    pub version_id: Option<String>,
    /// The `Content-Language` header.
    pub content_language: Option<String>,
    /// User metadata (`x-amz-meta-*`), names in lower case.
    pub metadata: BTreeMap<String, String>,
}

/// The recordings bucket (S3).
pub trait Objects: Send + Sync {
    /// `None` when the object does not exist (any more).
    fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectHead>, ServiceError>> + Send;

    /// The first `len` bytes (fewer for a shorter object) with one ranged GET.
    fn read_prefix(
        &self,
        bucket: &str,
        key: &str,
        len: u64,
    ) -> impl Future<Output = Result<Vec<u8>, ServiceError>> + Send;

    /// A whole (transcript) object as UTF-8; `None` when it does not exist.
    fn read_text(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, ServiceError>> + Send;
}

/// How speakers are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speakers {
    /// Diarisation of a mono recording into at most this many speakers (2–30).
    Labels(u8),
    /// One speaker per channel of a stereo recording.
    Channels,
}

/// A `StartTranscriptionJob` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequest {
    pub name: String,
    /// `s3://bucket/key`.
    pub media_uri: String,
    pub format: AudioFormat,
    /// `None`: automatic language identification over `language_options`.
    pub language: Option<String>,
    pub language_options: Vec<String>,
    pub output_bucket: String,
    /// `transcripts/<job>.json`.
    pub output_key: String,
    pub redact_pii: bool,
    pub speakers: Speakers,
    /// Deferred execution: jobs over the concurrency quota queue instead of failing.
    pub data_access_role_arn: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    Started,
    /// `ConflictException`: a job of that name exists (a duplicate event, or an earlier attempt).
    AlreadyExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    InProgress,
    Completed,
    Failed,
}

impl JobStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "QUEUED",
            JobStatus::InProgress => "IN_PROGRESS",
            JobStatus::Completed => "COMPLETED",
            JobStatus::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub status: JobStatus,
    pub failure_reason: Option<String>,
    pub language_code: Option<String>,
}

/// Amazon Transcribe.
pub trait Transcription: Send + Sync {
    fn start(&self, job: &JobRequest)
        -> impl Future<Output = Result<Started, ServiceError>> + Send;
    /// `None` when no job has that name.
    fn get(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<JobState>, ServiceError>> + Send;
}

/// Comprehend takes at most this many documents per `BatchDetectSentiment`.
pub const MAX_BATCH: usize = 25;

/// One document of a batch that Comprehend could not score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFailure {
    pub code: String,
    pub message: String,
}

/// Amazon Comprehend sentiment.
pub trait SentimentScorer: Send + Sync {
    /// Scores up to [`MAX_BATCH`] documents (each ≤ 5,000 bytes) in one call; one result per
    /// document, in order (a partial failure fails only its documents).
    fn batch(
        &self,
        texts: &[String],
        language: &str,
    ) -> impl Future<Output = Result<Vec<Result<Scores, ItemFailure>>, ServiceError>> + Send;
}

/// Translate takes at most this many UTF-8 bytes per `TranslateText`.
pub const MAX_TRANSLATE_BYTES: usize = 10_000;

/// Amazon Translate.
pub trait Translator: Send + Sync {
    /// One call; `text` is at most [`MAX_TRANSLATE_BYTES`].
    fn translate(
        &self,
        text: &str,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<String, ServiceError>> + Send;
}

/// The calls table (DynamoDB), with the conditional writes the pipeline's idempotence rests on.
pub trait Calls: Send + Sync {
    /// TRANSCRIBING for a new call (or one WAITING for the cap), counted against the day's cap, in
    /// one atomic write. An existing call is returned as it is and nothing changes.
    fn begin(
        &self,
        call: &NewCall,
        day: &str,
        cap: u32,
    ) -> impl Future<Output = Result<Begin, ServiceError>> + Send;

    /// TRANSCRIBING again under `call.job_name` (a later attempt), only while the call's job is
    /// still `expected_job` and not DONE, NO_SPEECH or REJECTED; counted against the cap.
    fn restart(
        &self,
        call: &NewCall,
        expected_job: &str,
        day: &str,
        cap: u32,
    ) -> impl Future<Output = Result<Begin, ServiceError>> + Send;

    /// WAITING (over the day's cap) with the reason; only a new or waiting call.
    fn wait(
        &self,
        call: &NewCall,
        reason: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    /// REJECTED with the reason; only a new call (`false`: it existed already).
    fn reject(
        &self,
        call: &NewCall,
        reason: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    fn get(
        &self,
        call_id: &str,
    ) -> impl Future<Output = Result<Option<CallRecord>, ServiceError>> + Send;

    /// DONE, NO_SPEECH or FAILED, only while the call is TRANSCRIBING `job_name` (`false`
    /// otherwise: a duplicate, or a stale job).
    fn finish(
        &self,
        call_id: &str,
        job_name: &str,
        outcome: &Outcome,
        at: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    /// Sets `EventSentAt` once (`false`: it was set already).
    fn mark_event_sent(
        &self,
        call_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    /// Sets `AnnouncedAt` once (`false`: it was set already).
    fn mark_announced(
        &self,
        call_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send;

    /// Calls in `status`, oldest first, at most `limit` (the daily sweep of WAITING calls and the
    /// CLI).
    fn by_status(
        &self,
        status: crate::call::Status,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CallRecord>, ServiceError>> + Send;
}

/// Where a negative call is announced: EventBridge (`CallSentimentNegative` on the default bus).
/// The optional manager topic is a `fleet_core::Notifier`.
pub trait Announcer: Send + Sync {
    fn announce(
        &self,
        detail_type: &str,
        detail: &serde_json::Value,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send;
}

// Shared adapters (tests and the benchmark keep a handle to read them back).
impl<T: Objects> Objects for std::sync::Arc<T> {
    fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectHead>, ServiceError>> + Send {
        (**self).head(bucket, key)
    }
    fn read_prefix(
        &self,
        bucket: &str,
        key: &str,
        len: u64,
    ) -> impl Future<Output = Result<Vec<u8>, ServiceError>> + Send {
        (**self).read_prefix(bucket, key, len)
    }
    fn read_text(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, ServiceError>> + Send {
        (**self).read_text(bucket, key)
    }
}

impl<T: Transcription> Transcription for std::sync::Arc<T> {
    fn start(
        &self,
        job: &JobRequest,
    ) -> impl Future<Output = Result<Started, ServiceError>> + Send {
        (**self).start(job)
    }
    fn get(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<JobState>, ServiceError>> + Send {
        (**self).get(name)
    }
}

impl<T: SentimentScorer> SentimentScorer for std::sync::Arc<T> {
    fn batch(
        &self,
        texts: &[String],
        language: &str,
    ) -> impl Future<Output = Result<Vec<Result<Scores, ItemFailure>>, ServiceError>> + Send {
        (**self).batch(texts, language)
    }
}

impl<T: Translator> Translator for std::sync::Arc<T> {
    fn translate(
        &self,
        text: &str,
        from: &str,
        to: &str,
    ) -> impl Future<Output = Result<String, ServiceError>> + Send {
        (**self).translate(text, from, to)
    }
}

impl<T: Announcer> Announcer for std::sync::Arc<T> {
    fn announce(
        &self,
        detail_type: &str,
        detail: &serde_json::Value,
    ) -> impl Future<Output = Result<(), ServiceError>> + Send {
        (**self).announce(detail_type, detail)
    }
}

impl<T: Calls> Calls for std::sync::Arc<T> {
    fn begin(
        &self,
        call: &NewCall,
        day: &str,
        cap: u32,
    ) -> impl Future<Output = Result<Begin, ServiceError>> + Send {
        (**self).begin(call, day, cap)
    }
    fn restart(
        &self,
        call: &NewCall,
        expected_job: &str,
        day: &str,
        cap: u32,
    ) -> impl Future<Output = Result<Begin, ServiceError>> + Send {
        (**self).restart(call, expected_job, day, cap)
    }
    fn wait(
        &self,
        call: &NewCall,
        reason: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send {
        (**self).wait(call, reason)
    }
    fn reject(
        &self,
        call: &NewCall,
        reason: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send {
        (**self).reject(call, reason)
    }
    fn get(
        &self,
        call_id: &str,
    ) -> impl Future<Output = Result<Option<CallRecord>, ServiceError>> + Send {
        (**self).get(call_id)
    }
    fn finish(
        &self,
        call_id: &str,
        job_name: &str,
        outcome: &Outcome,
        at: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send {
        (**self).finish(call_id, job_name, outcome, at)
    }
    fn mark_event_sent(
        &self,
        call_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send {
        (**self).mark_event_sent(call_id, at)
    }
    fn mark_announced(
        &self,
        call_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<bool, ServiceError>> + Send {
        (**self).mark_announced(call_id, at)
    }
    fn by_status(
        &self,
        status: crate::call::Status,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<CallRecord>, ServiceError>> + Send {
        (**self).by_status(status, limit)
    }
}
