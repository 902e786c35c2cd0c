//! Faults (issue 18): the starter with Transcribe's StartTranscriptionJob, and the analyser with
//! S3 GetObject, Comprehend BatchDetectSentiment and EventBridge PutEvents, throttled (then
//! answered, or throughout), answering 503 on every attempt, not answering at all, or (Comprehend,
//! EventBridge) failing part of a batch in a 200 answer. The SDK's retry absorbs passing
//! throttling; anything else fails the invocation with its class, so Lambda's retry of the event
//! finishes the work: the job started once and counted once, a call stored only when every
//! chunk is scored, an announcement sent once.

use std::sync::Arc;

use aws_sdk_comprehend::operation::batch_detect_sentiment::{
    BatchDetectSentimentError, BatchDetectSentimentOutput,
};
use aws_sdk_comprehend::types::{
    BatchDetectSentimentItemResult, BatchItemError, SentimentScore, SentimentType,
};
use aws_sdk_eventbridge::operation::put_events::{PutEventsError, PutEventsOutput};
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_transcribe::operation::get_transcription_job::GetTranscriptionJobOutput;
use aws_sdk_transcribe::operation::start_transcription_job::{
    StartTranscriptionJobError, StartTranscriptionJobOutput,
};
use aws_sdk_transcribe::types::error::{ConflictException, LimitExceededException};
use aws_sdk_transcribe::types::{TranscriptionJob, TranscriptionJobStatus};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use call_center::analyser::Analyser;
use call_center::aws::{ComprehendScorer, EventBridgeAnnouncer, S3Objects, TranscribeJobs};
use call_center::call::{CallRecord, Status};
use call_center::config::{AnalyserConfig, Redaction, StarterConfig};
use call_center::memory::{
    MemoryAnnouncer, MemoryCalls, MemoryObjects, MemoryScorer, MemoryTranscription,
    MemoryTranslator,
};
use call_center::ports::{Announcer, Objects, SentimentScorer, Speakers, MAX_BATCH};
use call_center::Starter;
use fleet_core::{EventHandler, FixedClock, HandlerError, RecordingNotifier};
use fleet_testkit::faults::{Fault, ATTEMPTS};
use fleet_testkit::{inject, load_event};
use lambda_runtime::{Context, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

const BUCKET: &str = "cloudops-fleet-calls-123456789012-eu-west-1";
/// The upload of `02-recording-uppercase-suffix.json`.
const RECORDING: &str = "recordings/agent-7/CALL-0042.MP3";
/// The job of `03-transcript-written.json`.
const JOB: &str = "call-CALL-0042-6f1d2c3b4a5968778695a4b3";
const DAY: &str = "2026-11-23";

fn lambda_event(name: &str) -> LambdaEvent<Value> {
    LambdaEvent::new(
        load_event(&format!("call-center/{name}")),
        Context::default(),
    )
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .unwrap()
}

/// The transcript Transcribe wrote for [`JOB`]: two speakers, a clearly negative call.
fn transcript() -> Vec<u8> {
    String::from_utf8(fixture("transcripts/diarised-two-speakers.json"))
        .unwrap()
        .replace("JOB_NAME", JOB)
        .into_bytes()
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::at("2026-11-23T08:00:00Z".parse().unwrap()))
}

/// The first decision of a report, or the invocation's errorType.
fn answer<R: Serialize>(result: Result<R, HandlerError>) -> Result<String, &'static str> {
    match result {
        Ok(report) => Ok(
            serde_json::to_value(&report).unwrap()["decisions"][0]["decision"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        Err(e) => Err(e.error_type()),
    }
}

fn throttling() -> ErrorMetadata {
    ErrorMetadata::builder()
        .code("ThrottlingException")
        .message("Rate exceeded")
        .build()
}

// ---------------------------------------------------------------- StartTranscriptionJob (starter)

fn limit_exceeded() -> StartTranscriptionJobError {
    StartTranscriptionJobError::LimitExceededException(
        LimitExceededException::builder()
            .message("You have exceeded the rate limit.")
            .meta(
                ErrorMetadata::builder()
                    .code("LimitExceededException")
                    .message("You have exceeded the rate limit.")
                    .build(),
            )
            .build(),
    )
}

fn job_started() -> StartTranscriptionJobOutput {
    StartTranscriptionJobOutput::builder().build()
}

type TestStarter = Starter<MemoryObjects, TranscribeJobs, MemoryCalls>;

/// The starter over Transcribe with `fault` on StartTranscriptionJob, run on the sample upload:
/// its decision or errorType, the attempts, and the starter.
async fn start_with(fault: Fault) -> (Result<String, &'static str>, usize, TestStarter) {
    let transcribe = inject!(
        aws_sdk_transcribe,
        aws_sdk_transcribe::Client::start_transcription_job,
        fault,
        limit_exceeded,
        job_started
    );
    let objects = MemoryObjects::default();
    objects.put(
        BUCKET,
        RECORDING,
        &fixture("call-en.mp3"),
        Some("en-US"),
        &[],
    );
    let starter = Starter {
        objects,
        transcription: TranscribeJobs {
            client: transcribe.client.clone(),
        },
        calls: MemoryCalls::default(),
        clock: clock(),
        config: StarterConfig {
            table: "calls".into(),
            bucket: BUCKET.into(),
            recordings_prefix: "recordings/".into(),
            transcripts_prefix: "transcripts/".into(),
            data_access_role_arn: "arn:aws:iam::123456789012:role/transcribe-data-access".into(),
            language_options: vec!["en-US".into()],
            speakers: Speakers::Labels(2),
            redaction: Redaction::Required,
            daily_cap: 100,
            max_attempts: 2,
        },
    };
    let answer = answer(
        starter
            .handle(lambda_event("02-recording-uppercase-suffix.json"))
            .await,
    );
    (answer, transcribe.attempts(), starter)
}

/// Transcribe taking every job; the rule counts the starts.
fn transcribe_answering() -> (TranscribeJobs, Rule) {
    let start = mock!(aws_sdk_transcribe::Client::start_transcription_job).then_output(job_started);
    let client = mock_client!(aws_sdk_transcribe, [&start]);
    (TranscribeJobs { client }, start)
}

/// Transcribe that created the job although its answer never came: the name is taken and the
/// job runs.
fn transcribe_has_the_job() -> (TranscribeJobs, Rule) {
    let start = mock!(aws_sdk_transcribe::Client::start_transcription_job).then_error(|| {
        StartTranscriptionJobError::ConflictException(
            ConflictException::builder()
                .message("The requested job name already exists.")
                .meta(
                    ErrorMetadata::builder()
                        .code("ConflictException")
                        .message("The requested job name already exists.")
                        .build(),
                )
                .build(),
        )
    });
    let job = mock!(aws_sdk_transcribe::Client::get_transcription_job).then_output(|| {
        GetTranscriptionJobOutput::builder()
            .transcription_job(
                TranscriptionJob::builder()
                    .transcription_job_status(TranscriptionJobStatus::InProgress)
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_transcribe, RuleMode::MatchAny, [&start, &job]);
    (TranscribeJobs { client }, start)
}

/// (errorType, attempts, call status) of a run whose job start failed, and Lambda's retry of the
/// event over `retry`: (decision, StartTranscriptionJob calls, jobs counted for the day).
async fn start_failing_with(
    fault: Fault,
    retry: (TranscribeJobs, Rule),
) -> (&'static str, usize, Option<Status>, (String, usize, u32)) {
    let (answer, attempts, mut starter) = start_with(fault).await;
    let status = starter.calls.all()[0].status;
    let (jobs, starts) = retry;
    starter.transcription = jobs;
    let retried = answer_of(&starter).await;
    let day = starter.calls.started_on(DAY);
    (
        answer.unwrap_err(),
        attempts,
        status,
        (retried, starts.num_calls(), day),
    )
}

async fn answer_of(starter: &TestStarter) -> String {
    answer(
        starter
            .handle(lambda_event("02-recording-uppercase-suffix.json"))
            .await,
    )
    .unwrap()
}

#[tokio::test]
async fn job_start_throttled_then_answered_is_retried_and_started_once() {
    let (answer, attempts, starter) = start_with(Fault::ThrottledThenOk).await;
    assert_eq!(
        (answer, attempts, starter.calls.started_on(DAY)),
        (Ok("Started".to_owned()), ATTEMPTS, 1)
    );
}

#[tokio::test]
async fn job_start_throttled_throughout_fails_throttled_and_the_retry_starts_it_counted_once() {
    assert_eq!(
        start_failing_with(Fault::Throttled, transcribe_answering()).await,
        (
            "Throttled",
            ATTEMPTS,
            Some(Status::Transcribing),
            ("Started".to_owned(), 1, 1)
        )
    );
}

#[tokio::test]
async fn job_start_5xx_fails_unavailable_and_the_retry_starts_it_counted_once() {
    assert_eq!(
        start_failing_with(Fault::ServerError, transcribe_answering()).await,
        (
            "Unavailable",
            ATTEMPTS,
            Some(Status::Transcribing),
            ("Started".to_owned(), 1, 1)
        )
    );
}

#[tokio::test]
async fn job_start_timeout_fails_unavailable_and_the_retry_finds_the_job_running() {
    // A timed-out start may have created the job: the retry meets the name taken and starts
    // nothing new.
    assert_eq!(
        start_failing_with(Fault::Timeout, transcribe_has_the_job()).await,
        (
            "Unavailable",
            ATTEMPTS,
            Some(Status::Transcribing),
            ("AlreadyRunning".to_owned(), 1, 1)
        )
    );
}

// ---------------------------------------------------------------- the analyser

type TestAnalyser<O, S, A> =
    Analyser<O, MemoryTranscription, S, MemoryTranslator, MemoryCalls, A, RecordingNotifier>;

/// The analyser with the starter's call for [`JOB`] recorded (TRANSCRIBING).
fn analyser<O: Objects, S: SentimentScorer, A: Announcer>(
    objects: O,
    scorer: S,
    announcer: A,
) -> TestAnalyser<O, S, A> {
    let calls = MemoryCalls::default();
    calls.insert(CallRecord {
        call_id: JOB.into(),
        status: Some(Status::Transcribing),
        job_name: JOB.into(),
        attempt: 1,
        bucket: BUCKET.into(),
        key: RECORDING.into(),
        language: Some("en-US".into()),
        ..CallRecord::default()
    });
    Analyser {
        objects,
        transcription: MemoryTranscription::default(),
        scorer,
        translator: MemoryTranslator::default(),
        calls,
        announcer,
        manager: None,
        clock: clock(),
        config: AnalyserConfig {
            table: "calls".into(),
            bucket: BUCKET.into(),
            transcripts_prefix: "transcripts/".into(),
            base_language: "en".into(),
            negative_threshold: 0.5,
            event_bus: "default".into(),
            manager_topic_arn: None,
        },
    }
}

/// The bucket holding [`JOB`]'s transcript where the sample event says.
fn transcript_objects() -> MemoryObjects {
    let objects = MemoryObjects::default();
    objects.put(
        BUCKET,
        &format!("transcripts/{JOB}.json"),
        &transcript(),
        None,
        &[],
    );
    objects
}

/// The analyser on the sample event: its decision or errorType.
async fn analyse<O: Objects, S: SentimentScorer, A: Announcer>(
    analyser: &TestAnalyser<O, S, A>,
) -> Result<String, &'static str> {
    answer(
        analyser
            .handle(lambda_event("03-transcript-written.json"))
            .await,
    )
}

fn call<O, S, A>(analyser: &TestAnalyser<O, S, A>) -> CallRecord {
    analyser.calls.all().remove(0)
}

// ---------------------------------------------------------------- BatchDetectSentiment

fn throttled_scoring() -> BatchDetectSentimentError {
    BatchDetectSentimentError::generic(throttling())
}

fn positive(index: i32) -> BatchDetectSentimentItemResult {
    BatchDetectSentimentItemResult::builder()
        .index(index)
        .sentiment(SentimentType::Positive)
        .sentiment_score(
            SentimentScore::builder()
                .positive(0.9)
                .negative(0.02)
                .neutral(0.08)
                .mixed(0.0)
                .build(),
        )
        .build()
}

fn internal_error(index: i32) -> BatchItemError {
    BatchItemError::builder()
        .index(index)
        .error_code("INTERNAL_SERVER_ERROR")
        .error_message("Internal server error")
        .build()
}

/// Every document of a batch scored positive (indexes past the batch are not read).
fn all_scored() -> BatchDetectSentimentOutput {
    BatchDetectSentimentOutput::builder()
        .set_result_list(Some((0..MAX_BATCH as i32).map(positive).collect()))
        .set_error_list(Some(vec![]))
        .build()
        .unwrap()
}

/// Document 0 failed, the others scored.
fn first_failed() -> BatchDetectSentimentOutput {
    BatchDetectSentimentOutput::builder()
        .set_result_list(Some((1..MAX_BATCH as i32).map(positive).collect()))
        .error_list(internal_error(0))
        .build()
        .unwrap()
}

type ScoringAnalyser = TestAnalyser<MemoryObjects, ComprehendScorer, MemoryAnnouncer>;

fn scoring_analyser(client: aws_sdk_comprehend::Client) -> ScoringAnalyser {
    analyser(
        transcript_objects(),
        ComprehendScorer { client },
        MemoryAnnouncer::default(),
    )
}

/// The analyser with `fault` on BatchDetectSentiment: (decision or errorType, attempts, the
/// call's status, announcements).
async fn score_with(fault: Fault) -> (Result<String, &'static str>, usize, Option<Status>, usize) {
    let comprehend = inject!(
        aws_sdk_comprehend,
        aws_sdk_comprehend::Client::batch_detect_sentiment,
        fault,
        throttled_scoring,
        all_scored
    );
    let analyser = scoring_analyser(comprehend.client.clone());
    let answer = analyse(&analyser).await;
    let announced = analyser.announcer.sent().len();
    (
        answer,
        comprehend.attempts(),
        call(&analyser).status,
        announced,
    )
}

/// Comprehend failing document 0 of the first batch, and answering the retry of that document
/// alone with `retry`: (decision or errorType, batch calls, retry calls, the call's status).
async fn score_partly_with(
    retry: fn() -> BatchDetectSentimentOutput,
) -> (Result<String, &'static str>, usize, usize, Option<Status>) {
    let alone = mock!(aws_sdk_comprehend::Client::batch_detect_sentiment)
        .match_requests(|r| r.text_list().len() == 1)
        .then_output(retry);
    let batch = mock!(aws_sdk_comprehend::Client::batch_detect_sentiment).then_output(first_failed);
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&alone, &batch]);
    let analyser = scoring_analyser(client);
    let answer = analyse(&analyser).await;
    (
        answer,
        batch.num_calls(),
        alone.num_calls(),
        call(&analyser).status,
    )
}

#[tokio::test]
async fn scoring_throttled_then_answered_is_retried_and_the_call_stored() {
    assert_eq!(
        score_with(Fault::ThrottledThenOk).await,
        (Ok("Done".to_owned()), ATTEMPTS, Some(Status::Done), 0)
    );
}

#[tokio::test]
async fn scoring_throttled_throughout_fails_throttled_and_stores_nothing() {
    assert_eq!(
        score_with(Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, Some(Status::Transcribing), 0)
    );
}

#[tokio::test]
async fn scoring_5xx_fails_unavailable_and_stores_nothing() {
    assert_eq!(
        score_with(Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, Some(Status::Transcribing), 0)
    );
}

#[tokio::test]
async fn scoring_timeout_fails_unavailable_and_stores_nothing() {
    assert_eq!(
        score_with(Fault::Timeout).await,
        (Err("Unavailable"), ATTEMPTS, Some(Status::Transcribing), 0)
    );
}

#[tokio::test]
async fn scoring_a_document_failed_twice_fails_unavailable_and_stores_nothing() {
    assert_eq!(
        score_partly_with(first_failed).await,
        (Err("Unavailable"), 1, 1, Some(Status::Transcribing))
    );
}

#[tokio::test]
async fn scoring_a_document_failed_once_is_retried_alone_and_the_call_stored() {
    assert_eq!(
        score_partly_with(all_scored).await,
        (Ok("Done".to_owned()), 1, 1, Some(Status::Done))
    );
}

// ---------------------------------------------------------------- GetObject

fn slow_down() -> GetObjectError {
    GetObjectError::generic(
        ErrorMetadata::builder()
            .code("SlowDown")
            .message("Please reduce your request rate.")
            .build(),
    )
}

/// The analyser with `fault` on GetObject of the transcript: (decision or errorType, attempts,
/// the call's status, batches scored).
async fn read_with(fault: Fault) -> (Result<String, &'static str>, usize, Option<Status>, usize) {
    let body = transcript();
    let s3 = inject!(
        aws_sdk_s3,
        aws_sdk_s3::Client::get_object,
        fault,
        slow_down,
        move || GetObjectOutput::builder()
            .body(ByteStream::from(body.clone()))
            .build()
    );
    let analyser = analyser(
        S3Objects {
            client: s3.client.clone(),
        },
        MemoryScorer::default(),
        MemoryAnnouncer::default(),
    );
    let answer = analyse(&analyser).await;
    let scored = analyser
        .scorer
        .counter
        .get("comprehend:BatchDetectSentiment");
    (answer, s3.attempts(), call(&analyser).status, scored)
}

#[tokio::test]
async fn transcript_read_throttled_then_answered_is_retried_and_the_call_stored() {
    assert_eq!(
        read_with(Fault::ThrottledThenOk).await,
        (Ok("Done".to_owned()), ATTEMPTS, Some(Status::Done), 1)
    );
}

#[tokio::test]
async fn transcript_read_throttled_throughout_fails_throttled_and_stores_nothing() {
    assert_eq!(
        read_with(Fault::Throttled).await,
        (Err("Throttled"), ATTEMPTS, Some(Status::Transcribing), 0)
    );
}

#[tokio::test]
async fn transcript_read_5xx_fails_unavailable_and_stores_nothing() {
    assert_eq!(
        read_with(Fault::ServerError).await,
        (Err("Unavailable"), ATTEMPTS, Some(Status::Transcribing), 0)
    );
}

#[tokio::test]
async fn transcript_read_timeout_fails_unavailable_and_stores_nothing() {
    assert_eq!(
        read_with(Fault::Timeout).await,
        (Err("Unavailable"), ATTEMPTS, Some(Status::Transcribing), 0)
    );
}

// ---------------------------------------------------------------- PutEvents

fn throttled_put() -> PutEventsError {
    PutEventsError::generic(throttling())
}

fn put() -> PutEventsOutput {
    PutEventsOutput::builder()
        .failed_entry_count(0)
        .entries(PutEventsResultEntry::builder().event_id("e-1").build())
        .build()
}

/// A 200 answer with the one entry failed.
fn entry_throttled() -> PutEventsOutput {
    PutEventsOutput::builder()
        .failed_entry_count(1)
        .entries(
            PutEventsResultEntry::builder()
                .error_code("ThrottlingException")
                .error_message("Rate exceeded")
                .build(),
        )
        .build()
}

type AnnouncingAnalyser = TestAnalyser<MemoryObjects, MemoryScorer, EventBridgeAnnouncer>;

fn announcing_analyser(client: aws_sdk_eventbridge::Client) -> AnnouncingAnalyser {
    let announcer = EventBridgeAnnouncer {
        client,
        bus: "default".into(),
    };
    analyser(transcript_objects(), MemoryScorer::default(), announcer)
}

/// The negative call analysed with `client` behind the announcer: (decision or errorType, the
/// call's status, announced) and the analyser.
async fn announce_over(
    client: aws_sdk_eventbridge::Client,
) -> (
    (Result<String, &'static str>, Option<Status>, bool),
    AnnouncingAnalyser,
) {
    let analyser = announcing_analyser(client);
    let answer = analyse(&analyser).await;
    let call = call(&analyser);
    ((answer, call.status, call.announced_at.is_some()), analyser)
}

/// [`announce_over`] EventBridge with `fault` on PutEvents, with the attempts.
async fn announce_with(
    fault: Fault,
) -> (
    (Result<String, &'static str>, usize, Option<Status>, bool),
    AnnouncingAnalyser,
) {
    let events = inject!(
        aws_sdk_eventbridge,
        aws_sdk_eventbridge::Client::put_events,
        fault,
        throttled_put,
        put
    );
    let ((answer, status, announced), analyser) = announce_over(events.client.clone()).await;
    ((answer, events.attempts(), status, announced), analyser)
}

/// Lambda's retry of the event with EventBridge answering: (decision, PutEvents calls, announced).
async fn retry_announcement(mut analyser: AnnouncingAnalyser) -> (String, usize, bool) {
    let events = mock!(aws_sdk_eventbridge::Client::put_events).then_output(put);
    analyser.announcer.client = mock_client!(aws_sdk_eventbridge, [&events]);
    let answer = analyse(&analyser).await.unwrap();
    (
        answer,
        events.num_calls(),
        call(&analyser).announced_at.is_some(),
    )
}

/// What an announcement that failed with `error_type` after `attempts` leaves: the call stored,
/// the announcement due.
fn due(
    error_type: &'static str,
    attempts: usize,
) -> (Result<String, &'static str>, usize, Option<Status>, bool) {
    (Err(error_type), attempts, Some(Status::Done), false)
}

fn announced_once() -> (String, usize, bool) {
    ("Announced".to_owned(), 1, true)
}

#[tokio::test]
async fn announcement_throttled_then_answered_is_retried_and_sent_once() {
    let (outcome, _) = announce_with(Fault::ThrottledThenOk).await;
    assert_eq!(
        outcome,
        (Ok("Done".to_owned()), ATTEMPTS, Some(Status::Done), true)
    );
}

#[tokio::test]
async fn announcement_throttled_throughout_fails_throttled_and_the_retry_sends_it_once() {
    let (outcome, analyser) = announce_with(Fault::Throttled).await;
    assert_eq!(outcome, due("Throttled", ATTEMPTS));
    assert_eq!(retry_announcement(analyser).await, announced_once());
}

#[tokio::test]
async fn announcement_5xx_fails_unavailable_and_the_retry_sends_it_once() {
    let (outcome, analyser) = announce_with(Fault::ServerError).await;
    assert_eq!(outcome, due("Unavailable", ATTEMPTS));
    assert_eq!(retry_announcement(analyser).await, announced_once());
}

#[tokio::test]
async fn announcement_timeout_fails_unavailable_and_the_retry_sends_it_once() {
    let (outcome, analyser) = announce_with(Fault::Timeout).await;
    assert_eq!(outcome, due("Unavailable", ATTEMPTS));
    assert_eq!(retry_announcement(analyser).await, announced_once());
}

#[tokio::test]
async fn announcement_entry_failed_in_a_200_fails_throttled_and_the_retry_sends_it_once() {
    // FailedEntryCount in a 200 answer: the SDK sees success and does not retry.
    let rule = mock!(aws_sdk_eventbridge::Client::put_events).then_output(entry_throttled);
    let ((answer, status, announced), analyser) =
        announce_over(mock_client!(aws_sdk_eventbridge, [&rule])).await;
    assert_eq!(
        (answer, rule.num_calls(), status, announced),
        due("Throttled", 1)
    );
    assert_eq!(retry_announcement(analyser).await, announced_once());
}
