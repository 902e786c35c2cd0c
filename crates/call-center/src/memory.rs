//! In-memory adapters that behave like AWS where the domain relies on it: conditional writes
//! and the daily count in one atomic step, `ConflictException` on a duplicate job name,
//! Comprehend's 25-document batches with per-document failures and its 5,000-byte limit,
//! Translate's 10,000-byte limit. Each counts its calls, so the benchmark can report AWS calls
//! per recording.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use fleet_core::{ErrorClass, ServiceError};
use sha2::{Digest, Sha256};

use crate::call::{outcome_fields, Begin, CallRecord, NewCall, Outcome, Status};
use crate::chunk::MAX_CHUNK_BYTES;
use crate::ports::*;
use crate::sentiment::{Label, Scores};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Calls per API, shared by the adapters of one test or benchmark run.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<&'static str, usize>>>);

impl CallCounter {
    pub fn hit(&self, api: &'static str) {
        *lock(&self.0).entry(api).or_default() += 1;
    }
    pub fn get(&self, api: &str) -> usize {
        lock(&self.0).get(api).copied().unwrap_or_default()
    }
    pub fn total(&self) -> usize {
        lock(&self.0).values().sum()
    }
    pub fn snapshot(&self) -> BTreeMap<&'static str, usize> {
        lock(&self.0).clone()
    }
    pub fn reset(&self) {
        lock(&self.0).clear();
    }
}

#[derive(Debug, Clone)]
struct StoredObject {
    body: Vec<u8>,
    head: ObjectHead,
}

#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: Mutex<BTreeMap<(String, String), StoredObject>>,
    pub counter: CallCounter,
}

impl MemoryObjects {
    pub fn new(counter: CallCounter) -> Self {
        Self {
            objects: Mutex::default(),
            counter,
        }
    }

    /// Stores an object; its ETag is derived from the content, as S3's MD5 is. Returns the ETag.
    pub fn put(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        content_language: Option<&str>,
        metadata: &[(&str, &str)],
    ) -> String {
        let etag = hex::encode(&Sha256::digest(body)[..16]);
        let head = ObjectHead {
            size: body.len() as u64,
            etag: etag.clone(),
            version_id: None,
            content_language: content_language.map(str::to_owned),
            metadata: metadata
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
        };
        lock(&self.objects).insert(
            (bucket.to_owned(), key.to_owned()),
            StoredObject {
                body: body.to_vec(),
                head,
            },
        );
        etag
    }

    pub fn delete(&self, bucket: &str, key: &str) {
        lock(&self.objects).remove(&(bucket.to_owned(), key.to_owned()));
    }

    fn find(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        lock(&self.objects)
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned()
    }
}

impl Objects for MemoryObjects {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectHead>, ServiceError> {
        self.counter.hit("s3:HeadObject");
        Ok(self.find(bucket, key).map(|o| o.head))
    }

    async fn read_prefix(
        &self,
        bucket: &str,
        key: &str,
        len: u64,
    ) -> Result<Vec<u8>, ServiceError> {
        self.counter.hit("s3:GetObject(range)");
        let object = self.find(bucket, key).ok_or_else(|| {
            ServiceError::new(
                "S3",
                ErrorClass::NotFound,
                "NoSuchKey: The specified key does not exist.",
            )
        })?;
        let end = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .min(object.body.len());
        Ok(object.body[..end].to_vec())
    }

    async fn read_text(&self, bucket: &str, key: &str) -> Result<Option<String>, ServiceError> {
        self.counter.hit("s3:GetObject");
        self.find(bucket, key)
            .map(|o| {
                String::from_utf8(o.body).map_err(|_| {
                    ServiceError::new("S3", ErrorClass::Internal, format!("{key} is not UTF-8"))
                })
            })
            .transpose()
    }
}

#[derive(Debug, Default)]
pub struct MemoryTranscription {
    jobs: Mutex<BTreeMap<String, (JobRequest, JobState)>>,
    pub counter: CallCounter,
}

impl MemoryTranscription {
    pub fn new(counter: CallCounter) -> Self {
        Self {
            jobs: Mutex::default(),
            counter,
        }
    }

    pub fn jobs(&self) -> Vec<JobRequest> {
        lock(&self.jobs).values().map(|(r, _)| r.clone()).collect()
    }

    /// Moves a job on, as Transcribe would.
    pub fn set(&self, name: &str, status: JobStatus, failure_reason: Option<&str>) {
        if let Some((_, state)) = lock(&self.jobs).get_mut(name) {
            state.status = status;
            state.failure_reason = failure_reason.map(str::to_owned);
        }
    }
}

impl Transcription for MemoryTranscription {
    async fn start(&self, job: &JobRequest) -> Result<Started, ServiceError> {
        self.counter.hit("transcribe:StartTranscriptionJob");
        if !crate::jobname::is_valid_job_name(&job.name) {
            return Err(ServiceError::new(
                "Transcribe",
                ErrorClass::Internal,
                format!("BadRequestException: invalid job name {:?}", job.name),
            ));
        }
        let mut jobs = lock(&self.jobs);
        if jobs.contains_key(&job.name) {
            return Ok(Started::AlreadyExists);
        }
        let state = JobState {
            status: JobStatus::Queued,
            failure_reason: None,
            language_code: job.language.clone(),
        };
        jobs.insert(job.name.clone(), (job.clone(), state));
        Ok(Started::Started)
    }

    async fn get(&self, name: &str) -> Result<Option<JobState>, ServiceError> {
        self.counter.hit("transcribe:GetTranscriptionJob");
        Ok(lock(&self.jobs).get(name).map(|(_, s)| s.clone()))
    }
}

/// Scores by a small lexicon, so tests can write calls that are clearly negative or positive.
#[derive(Debug, Default)]
pub struct MemoryScorer {
    pub counter: CallCounter,
    /// The next this many documents fail with INTERNAL_SERVER_ERROR (a partial batch failure).
    pub fail_next: Mutex<usize>,
    /// Every batch fails with this error (throttling after the SDK's retries, …).
    pub failure: Mutex<Option<ServiceError>>,
}

const NEGATIVE_WORDS: &[&str] = &[
    "angry",
    "awful",
    "bad",
    "cancel",
    "complaint",
    "disappointed",
    "horrible",
    "refund",
    "terrible",
    "unacceptable",
    "worst",
    "wrong",
];
const POSITIVE_WORDS: &[&str] = &[
    "excellent",
    "glad",
    "good",
    "great",
    "happy",
    "helpful",
    "perfect",
    "thank",
    "thanks",
    "wonderful",
];

/// The lexicon's scores for a text.
pub fn lexicon_scores(text: &str) -> Scores {
    let mut pos = 0.0f64;
    let mut neg = 0.0f64;
    let mut words = 0.0f64;
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        words += 1.0;
        let w = w.to_lowercase();
        if NEGATIVE_WORDS.contains(&w.as_str()) {
            neg += 1.0;
        } else if POSITIVE_WORDS.contains(&w.as_str()) {
            pos += 1.0;
        }
    }
    if pos + neg == 0.0 {
        return Scores {
            positive: 0.05,
            negative: 0.05,
            neutral: 0.88,
            mixed: 0.02,
        };
    }
    let strength = ((pos + neg) / words.max(1.0) * 8.0).min(1.0);
    let positive = strength * pos / (pos + neg);
    let negative = strength * neg / (pos + neg);
    let mixed = if pos > 0.0 && neg > 0.0 { 0.05 } else { 0.0 };
    Scores {
        positive,
        negative,
        mixed,
        neutral: (1.0 - positive - negative - mixed).max(0.0),
    }
}

impl MemoryScorer {
    pub fn new(counter: CallCounter) -> Self {
        Self {
            counter,
            ..Self::default()
        }
    }
}

impl SentimentScorer for MemoryScorer {
    async fn batch(
        &self,
        texts: &[String],
        language: &str,
    ) -> Result<Vec<Result<Scores, ItemFailure>>, ServiceError> {
        self.counter.hit("comprehend:BatchDetectSentiment");
        if let Some(e) = lock(&self.failure).clone() {
            return Err(e);
        }
        if texts.is_empty() || texts.len() > MAX_BATCH {
            return Err(ServiceError::new(
                "Comprehend",
                ErrorClass::Internal,
                format!("BatchSizeLimitExceededException: {} documents", texts.len()),
            ));
        }
        if !crate::language::is_sentiment_language(language) {
            return Err(ServiceError::new(
                "Comprehend",
                ErrorClass::Internal,
                format!("UnsupportedLanguageException: {language}"),
            ));
        }
        let mut fail = lock(&self.fail_next);
        Ok(texts
            .iter()
            .map(|t| {
                if *fail > 0 {
                    *fail -= 1;
                    return Err(ItemFailure {
                        code: "INTERNAL_SERVER_ERROR".into(),
                        message: "Internal server error".into(),
                    });
                }
                if t.len() > MAX_CHUNK_BYTES {
                    return Err(ItemFailure {
                        code: "TEXT_SIZE_LIMIT_EXCEEDED".into(),
                        message: format!("{} bytes", t.len()),
                    });
                }
                Ok(lexicon_scores(t))
            })
            .collect())
    }
}

/// "Translates" by a tiny dictionary (enough for the tests' French calls).
#[derive(Debug, Default)]
pub struct MemoryTranslator {
    pub counter: CallCounter,
    pub requests: Mutex<Vec<(String, String, usize)>>,
}

impl MemoryTranslator {
    pub fn new(counter: CallCounter) -> Self {
        Self {
            counter,
            ..Self::default()
        }
    }
}

const DICTIONARY: &[(&str, &str)] = &[
    ("merci", "thanks"),
    ("mauvais", "bad"),
    ("horrible", "horrible"),
    ("inacceptable", "unacceptable"),
    ("rembourser", "refund"),
    ("content", "happy"),
    ("bonjour", "hello"),
    ("slecht", "bad"),
    ("dank", "thanks"),
];

impl Translator for MemoryTranslator {
    async fn translate(&self, text: &str, from: &str, to: &str) -> Result<String, ServiceError> {
        self.counter.hit("translate:TranslateText");
        if text.len() > MAX_TRANSLATE_BYTES {
            return Err(ServiceError::new(
                "Translate",
                ErrorClass::Internal,
                format!("TextSizeLimitExceededException: {} bytes", text.len()),
            ));
        }
        lock(&self.requests).push((from.to_owned(), to.to_owned(), text.len()));
        Ok(text
            .split(' ')
            .map(|w| {
                let bare = w
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase();
                DICTIONARY
                    .iter()
                    .find(|(f, _)| *f == bare)
                    .map_or_else(|| w.to_owned(), |(_, t)| w.to_lowercase().replace(&bare, t))
            })
            .collect::<Vec<_>>()
            .join(" "))
    }
}

/// The calls table. Each method is one atomic step, as each DynamoDB write is.
#[derive(Debug, Default)]
pub struct MemoryCalls {
    calls: Mutex<(BTreeMap<String, CallRecord>, BTreeMap<String, u32>)>,
    pub counter: CallCounter,
}

impl MemoryCalls {
    pub fn new(counter: CallCounter) -> Self {
        Self {
            calls: Mutex::default(),
            counter,
        }
    }

    pub fn all(&self) -> Vec<CallRecord> {
        lock(&self.calls).0.values().cloned().collect()
    }

    /// Jobs started on `day`.
    pub fn started_on(&self, day: &str) -> u32 {
        lock(&self.calls).1.get(day).copied().unwrap_or_default()
    }

    /// Overwrites a stored call (tests of stale or forged events).
    pub fn insert(&self, record: CallRecord) {
        lock(&self.calls).0.insert(record.call_id.clone(), record);
    }
}

/// Sets a stored call's field when it is unset (`false`: no such call, or set already).
fn set_once(field: Option<&mut Option<String>>, at: &str) -> bool {
    match field {
        Some(field) if field.is_none() => {
            *field = Some(at.to_owned());
            true
        }
        _ => false,
    }
}

fn record_of(call: &NewCall, status: Status, reason: Option<&str>) -> CallRecord {
    CallRecord {
        call_id: call.call_id.clone(),
        status: Some(status),
        job_name: call.job_name.clone(),
        attempt: call.attempt,
        bucket: call.bucket.clone(),
        key: call.key.clone(),
        etag: call.etag.clone(),
        version_id: call.version_id.clone(),
        language: call.language.clone(),
        reason: reason.map(str::to_owned),
        created_at: call.at.clone(),
        updated_at: call.at.clone(),
        details: serde_json::json!({"Redacted": call.redacted}),
        ..CallRecord::default()
    }
}

impl Calls for MemoryCalls {
    async fn begin(&self, call: &NewCall, day: &str, cap: u32) -> Result<Begin, ServiceError> {
        self.counter.hit("dynamodb:TransactWriteItems");
        let mut guard = lock(&self.calls);
        let (calls, days) = &mut *guard;
        if let Some(existing) = calls.get(&call.call_id) {
            if existing.status != Some(Status::Waiting) {
                return Ok(Begin::Exists(Box::new(existing.clone())));
            }
        }
        let count = days.entry(day.to_owned()).or_default();
        if *count >= cap {
            return Ok(Begin::OverCap);
        }
        *count += 1;
        let created = calls.get(&call.call_id).map(|c| c.created_at.clone());
        let mut record = record_of(call, Status::Transcribing, None);
        if let Some(created) = created {
            record.created_at = created;
        }
        calls.insert(call.call_id.clone(), record);
        Ok(Begin::Started)
    }

    async fn restart(
        &self,
        call: &NewCall,
        expected_job: &str,
        day: &str,
        cap: u32,
    ) -> Result<Begin, ServiceError> {
        self.counter.hit("dynamodb:TransactWriteItems");
        let mut guard = lock(&self.calls);
        let (calls, days) = &mut *guard;
        match calls.get(&call.call_id) {
            Some(existing)
                if existing.job_name == expected_job
                    && matches!(existing.status, Some(Status::Transcribing | Status::Failed)) => {}
            Some(existing) => return Ok(Begin::Exists(Box::new(existing.clone()))),
            None => return Ok(Begin::Exists(Box::default())),
        }
        let count = days.entry(day.to_owned()).or_default();
        if *count >= cap {
            return Ok(Begin::OverCap);
        }
        *count += 1;
        let created = calls
            .get(&call.call_id)
            .map(|c| c.created_at.clone())
            .unwrap_or_default();
        let mut record = record_of(call, Status::Transcribing, None);
        record.created_at = created;
        calls.insert(call.call_id.clone(), record);
        Ok(Begin::Started)
    }

    async fn wait(&self, call: &NewCall, reason: &str) -> Result<bool, ServiceError> {
        self.counter.hit("dynamodb:PutItem");
        let mut guard = lock(&self.calls);
        let calls = &mut guard.0;
        match calls.get(&call.call_id).map(|c| c.status) {
            None | Some(Some(Status::Waiting)) => {
                calls.insert(
                    call.call_id.clone(),
                    record_of(call, Status::Waiting, Some(reason)),
                );
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn reject(&self, call: &NewCall, reason: &str) -> Result<bool, ServiceError> {
        self.counter.hit("dynamodb:PutItem");
        let mut guard = lock(&self.calls);
        let calls = &mut guard.0;
        if calls.contains_key(&call.call_id) {
            return Ok(false);
        }
        calls.insert(
            call.call_id.clone(),
            record_of(call, Status::Rejected, Some(reason)),
        );
        Ok(true)
    }

    async fn get(&self, call_id: &str) -> Result<Option<CallRecord>, ServiceError> {
        self.counter.hit("dynamodb:GetItem");
        Ok(lock(&self.calls).0.get(call_id).cloned())
    }

    async fn finish(
        &self,
        call_id: &str,
        job_name: &str,
        outcome: &Outcome,
        at: &str,
    ) -> Result<bool, ServiceError> {
        self.counter.hit("dynamodb:UpdateItem");
        let mut guard = lock(&self.calls);
        let Some(call) = guard.0.get_mut(call_id) else {
            return Ok(false);
        };
        if call.status != Some(Status::Transcribing) || call.job_name != job_name {
            return Ok(false);
        }
        call.status = Some(outcome.status());
        call.updated_at = at.to_owned();
        let fields = outcome_fields(outcome);
        call.reason = fields
            .get("Reason")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        call.sentiment = fields
            .get("Sentiment")
            .and_then(|v| v.as_str())
            .and_then(Label::parse);
        call.negative = fields
            .get("Scores")
            .and_then(|s| s.get("Negative"))
            .and_then(|v| v.as_f64());
        call.announce_reason = fields
            .get("AnnounceReason")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let mut details = call.details.as_object().cloned().unwrap_or_default();
        details.extend(fields);
        call.details = serde_json::Value::Object(details);
        Ok(true)
    }

    async fn mark_event_sent(&self, call_id: &str, at: &str) -> Result<bool, ServiceError> {
        self.counter.hit("dynamodb:UpdateItem");
        let mut guard = lock(&self.calls);
        Ok(set_once(
            guard.0.get_mut(call_id).map(|c| &mut c.event_sent_at),
            at,
        ))
    }

    async fn mark_announced(&self, call_id: &str, at: &str) -> Result<bool, ServiceError> {
        self.counter.hit("dynamodb:UpdateItem");
        let mut guard = lock(&self.calls);
        Ok(set_once(
            guard.0.get_mut(call_id).map(|c| &mut c.announced_at),
            at,
        ))
    }

    async fn by_status(
        &self,
        status: Status,
        limit: usize,
    ) -> Result<Vec<CallRecord>, ServiceError> {
        self.counter.hit("dynamodb:Query");
        let mut out: Vec<CallRecord> = lock(&self.calls)
            .0
            .values()
            .filter(|c| c.status == Some(status))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        out.truncate(limit);
        Ok(out)
    }
}

/// Keeps announcements.
#[derive(Debug, Default)]
pub struct MemoryAnnouncer {
    pub sent: Mutex<Vec<(String, serde_json::Value)>>,
    pub failure: Mutex<Option<ServiceError>>,
    pub counter: CallCounter,
}

impl MemoryAnnouncer {
    pub fn new(counter: CallCounter) -> Self {
        Self {
            counter,
            ..Self::default()
        }
    }
    pub fn sent(&self) -> Vec<(String, serde_json::Value)> {
        lock(&self.sent).clone()
    }
}

impl Announcer for MemoryAnnouncer {
    async fn announce(
        &self,
        detail_type: &str,
        detail: &serde_json::Value,
    ) -> Result<(), ServiceError> {
        self.counter.hit("events:PutEvents");
        if let Some(e) = lock(&self.failure).clone() {
            return Err(e);
        }
        lock(&self.sent).push((detail_type.to_owned(), detail.clone()));
        Ok(())
    }
}
