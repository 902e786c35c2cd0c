//! Both functions end to end over the in-memory adapters: every decision of the starter and the
//! analyser, the AWS calls each step costs, and the error classes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use call_center::analyser::{Analyser, Decision as A};
use call_center::call::Status;
use call_center::config::{AnalyserConfig, Redaction, StarterConfig};
use call_center::memory::*;
use call_center::ports::{JobStatus, Speakers};
use call_center::starter::{Decision as S, Starter};
use call_center::CallError;
use fleet_core::{
    Classified, ErrorClass, EventHandler, FixedClock, RecordingNotifier, ServiceError,
};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

const BUCKET: &str = "calls-bucket";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .unwrap()
}

fn transcript_for(job: &str, name: &str) -> Vec<u8> {
    String::from_utf8(fixture(&format!("transcripts/{name}")))
        .unwrap()
        .replace("JOB_NAME", job)
        .into_bytes()
}

fn s3_event(key: &str, etag: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
        "eventTime": "2026-11-23T08:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "192.0.2.1"}, "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "recordings",
               "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "A"}, "arn": format!("arn:aws:s3:::{BUCKET}")},
               "object": {"key": call_center::keys::encode_s3_key(key), "size": 100, "eTag": etag, "sequencer": "0A"}}
    }]})
}

fn failed_event(job: &str) -> Value {
    json!({"version": "0", "id": "e-1", "detail-type": "Transcribe Job State Change", "source": "aws.transcribe",
           "account": "123456789012", "time": "2026-11-23T08:10:00Z", "region": "eu-west-1", "resources": [],
           "detail": {"TranscriptionJobName": job, "TranscriptionJobStatus": "FAILED"}})
}

fn invoke(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

/// The manager topic: a `RecordingNotifier` the test keeps a handle to, failing (throttled) as
/// many times as the second handle says first.
struct Manager(Arc<RecordingNotifier>, Arc<AtomicUsize>);

impl fleet_core::Notifier for Manager {
    async fn publish(&self, subject: &str, message: &str) -> Result<(), ServiceError> {
        let failing = self
            .1
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(ServiceError::new(
                "SNS",
                ErrorClass::Throttled,
                "Throttling: Rate exceeded",
            ));
        }
        self.0.publish(subject, message).await
    }
}

type MemoryAnalyser = Analyser<
    Arc<MemoryObjects>,
    Arc<MemoryTranscription>,
    Arc<MemoryScorer>,
    Arc<MemoryTranslator>,
    Arc<MemoryCalls>,
    Arc<MemoryAnnouncer>,
    Manager,
>;

struct World {
    counter: CallCounter,
    clock: Arc<FixedClock>,
    starter: Starter<Arc<MemoryObjects>, Arc<MemoryTranscription>, Arc<MemoryCalls>>,
    analyser: MemoryAnalyser,
    objects: Arc<MemoryObjects>,
    jobs: Arc<MemoryTranscription>,
    calls: Arc<MemoryCalls>,
    scorer: Arc<MemoryScorer>,
    announcer: Arc<MemoryAnnouncer>,
    manager: Arc<RecordingNotifier>,
    manager_failures: Arc<AtomicUsize>,
}

fn starter_config() -> StarterConfig {
    StarterConfig {
        table: "calls".into(),
        bucket: BUCKET.into(),
        recordings_prefix: "recordings/".into(),
        transcripts_prefix: "transcripts/".into(),
        data_access_role_arn: "arn:aws:iam::123456789012:role/transcribe-data-access".into(),
        language_options: vec!["en-US".into(), "fr-FR".into()],
        speakers: Speakers::Labels(2),
        redaction: Redaction::Required,
        daily_cap: 100,
        max_attempts: 2,
    }
}

fn world_with(config: StarterConfig) -> World {
    let counter = CallCounter::default();
    let clock = Arc::new(FixedClock::at("2026-11-23T08:00:00Z".parse().unwrap()));
    let objects = Arc::new(MemoryObjects::new(counter.clone()));
    let jobs = Arc::new(MemoryTranscription::new(counter.clone()));
    let calls = Arc::new(MemoryCalls::new(counter.clone()));
    let scorer = Arc::new(MemoryScorer::new(counter.clone()));
    let translator = Arc::new(MemoryTranslator::new(counter.clone()));
    let announcer = Arc::new(MemoryAnnouncer::new(counter.clone()));
    let manager = Arc::new(RecordingNotifier::default());
    let manager_failures = Arc::new(AtomicUsize::new(0));
    World {
        starter: Starter {
            objects: objects.clone(),
            transcription: jobs.clone(),
            calls: calls.clone(),
            clock: clock.clone(),
            config,
        },
        analyser: Analyser {
            objects: objects.clone(),
            transcription: jobs.clone(),
            scorer: scorer.clone(),
            translator,
            calls: calls.clone(),
            announcer: announcer.clone(),
            manager: Some(Manager(manager.clone(), manager_failures.clone())),
            clock: clock.clone(),
            config: AnalyserConfig {
                table: "calls".into(),
                bucket: BUCKET.into(),
                transcripts_prefix: "transcripts/".into(),
                base_language: "en".into(),
                negative_threshold: 0.5,
                event_bus: "default".into(),
                manager_topic_arn: Some("arn:aws:sns:eu-west-1:123456789012:managers".into()),
            },
        },
        counter,
        clock,
        objects,
        jobs,
        calls,
        scorer,
        announcer,
        manager,
        manager_failures,
    }
}

fn world() -> World {
    world_with(starter_config())
}

impl World {
    fn upload(&self, key: &str, file: &str, language: Option<&str>) -> String {
        self.objects.put(BUCKET, key, &fixture(file), language, &[])
    }

    async fn start(&self, key: &str, etag: &str) -> S {
        let report = self
            .starter
            .handle(invoke(s3_event(key, etag)))
            .await
            .unwrap();
        report.decisions.into_iter().next().unwrap()
    }

    /// Transcribe finishing a job: its output where the request said.
    async fn transcribe(&self, job: &str, fixture_name: &str) -> A {
        let request = self
            .jobs
            .jobs()
            .into_iter()
            .find(|j| j.name == job)
            .unwrap();
        self.jobs.set(job, JobStatus::Completed, None);
        self.objects.put(
            BUCKET,
            &request.output_key,
            &transcript_for(job, fixture_name),
            None,
            &[],
        );
        let etag = "\"t\"";
        let report = self
            .analyser
            .handle(invoke(s3_event(&request.output_key, etag)))
            .await
            .unwrap();
        report.decisions.into_iter().next().unwrap()
    }
}

fn started_job(decision: &S) -> String {
    match decision {
        S::Started { job_name, .. } => job_name.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_recording_starts_one_job_in_four_calls_and_duplicates_start_none() {
    let w = world();
    let etag = w.upload(
        "recordings/2026/11/Call with Ann+Bob.MP3",
        "call-en.mp3",
        Some("en-US"),
    );
    let job = started_job(
        &w.start("recordings/2026/11/Call with Ann+Bob.MP3", &etag)
            .await,
    );
    assert_eq!(w.counter.total(), 4, "{:?}", w.counter.snapshot());
    let jobs = w.jobs.jobs();
    assert_eq!(jobs.len(), 1);
    let j = &jobs[0];
    assert_eq!(j.name, job);
    assert!(job.starts_with("call-Call-with-Ann-Bob-"), "{job}");
    assert_eq!(
        j.media_uri,
        format!("s3://{BUCKET}/recordings/2026/11/Call with Ann+Bob.MP3")
    );
    assert_eq!(j.output_key, format!("transcripts/{job}.json"));
    assert_eq!(
        (j.language.as_deref(), j.redact_pii, j.speakers),
        (Some("en-US"), true, Speakers::Labels(2))
    );
    assert_eq!(
        j.data_access_role_arn,
        "arn:aws:iam::123456789012:role/transcribe-data-access"
    );
    // The same event again, and again later: one job.
    for _ in 0..2 {
        match w
            .start("recordings/2026/11/Call with Ann+Bob.MP3", &etag)
            .await
        {
            S::AlreadyRunning {
                job_name,
                job_status,
                ..
            } => {
                assert_eq!(job_name, job);
                assert_eq!(job_status, "QUEUED");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(w.jobs.jobs().len(), 1);
    assert_eq!(
        w.calls.started_on("2026-11-23"),
        1,
        "duplicates are not counted"
    );
}

#[tokio::test]
async fn non_audio_empty_and_unsupported_files_are_rejected_with_a_reason_and_no_job() {
    let w = world();
    for (key, file, reason) in [
        ("recordings/not-audio.mp3", "not-audio.mp3", "the name says mp3 but the content looks like text"),
        ("recordings/empty.mp3", "empty.mp3", "the object is empty"),
        ("recordings/notes.txt", "not-audio.mp3", "\"recordings/notes.txt\" does not end in a supported audio suffix (mp3, wav, flac, ogg, m4a, mp4)"),
        ("recordings/wave-named.mp3", "call-en.wav", "the name says mp3 but the content looks like wav"),
    ] {
        let etag = w.upload(key, file, Some("en-US"));
        match w.start(key, &etag).await {
            S::Rejected { reason: got, call_id } => {
                assert_eq!(got, reason, "{key}");
                let call = w.calls.all().into_iter().find(|c| c.call_id == call_id).unwrap();
                assert_eq!((call.status, call.reason.as_deref()), (Some(Status::Rejected), Some(reason)));
            }
            other => panic!("{key}: {other:?}"),
        }
        // A duplicate of a rejected upload stays rejected.
        assert!(matches!(w.start(key, &etag).await, S::AlreadyFinished { status, .. } if status == "REJECTED"));
    }
    assert!(w.jobs.jobs().is_empty());
}

#[tokio::test]
async fn outputs_and_other_prefixes_never_start_jobs() {
    let w = world();
    let etag = w.upload("transcripts/call-x.json", "call-en.mp3", None);
    assert!(matches!(
        w.start("transcripts/call-x.json", &etag).await,
        S::Ignored { .. }
    ));
    assert!(matches!(
        w.start("transcripts/.write_access_check_file.temp", "e")
            .await,
        S::Ignored { .. }
    ));
    assert!(w.jobs.jobs().is_empty());
    assert_eq!(w.counter.total(), 0, "decided from the event alone");
    let err = w.starter.handle(invoke(json!({"Records": [{"eventTime": "2026-11-23T08:00:00Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {}, "requestParameters": {}, "s3": {"bucket": {"name": "another-bucket"}, "object": {"key": "recordings/a.mp3", "eTag": "e"}}}]})))
        .await.unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidEvent);
}

#[tokio::test]
async fn language_comes_from_metadata_and_redaction_policy_decides() {
    let w = world();
    let etag = w.objects.put(
        BUCKET,
        "recordings/fr.mp3",
        &fixture("call-fr.mp3"),
        None,
        &[("content-language", "fr-fr")],
    );
    match w.start("recordings/fr.mp3", &etag).await {
        S::Rejected { reason, .. } => {
            assert!(reason.starts_with("PII redaction is required"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let mut config = starter_config();
    config.redaction = Redaction::WhenAvailable;
    let w = world_with(config);
    let etag = w.objects.put(
        BUCKET,
        "recordings/fr.mp3",
        &fixture("call-fr.mp3"),
        None,
        &[("content-language", "fr-fr")],
    );
    started_job(&w.start("recordings/fr.mp3", &etag).await);
    let etag = w.upload("recordings/unknown.mp3", "call-en.mp3", Some("klingon"));
    started_job(&w.start("recordings/unknown.mp3", &etag).await);
    let jobs = w.jobs.jobs();
    let fr = jobs
        .iter()
        .find(|j| j.media_uri.ends_with("fr.mp3"))
        .unwrap();
    assert_eq!(
        (fr.language.as_deref(), fr.redact_pii),
        (Some("fr-FR"), false)
    );
    let unknown = jobs
        .iter()
        .find(|j| j.media_uri.ends_with("unknown.mp3"))
        .unwrap();
    assert_eq!(
        (unknown.language.as_deref(), unknown.redact_pii),
        (None, false)
    );
    assert_eq!(unknown.language_options, ["en-US", "fr-FR"]);
}

#[tokio::test]
async fn the_daily_cap_makes_calls_wait_for_the_next_days_sweep() {
    let mut config = starter_config();
    config.daily_cap = 1;
    let w = world_with(config);
    let e1 = w.upload("recordings/one.mp3", "call-en.mp3", Some("en-US"));
    let e2 = w.objects.put(
        BUCKET,
        "recordings/two.mp3",
        &fixture("call-fr.mp3"),
        Some("en-US"),
        &[],
    );
    started_job(&w.start("recordings/one.mp3", &e1).await);
    match w.start("recordings/two.mp3", &e2).await {
        S::Waiting { reason, .. } => assert!(reason.contains("daily cap of 1"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.jobs.jobs().len(), 1);
    // Same day: the sweep starts nothing.
    let report = w.starter.handle(invoke(json!({"version": "0", "id": "s", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}))).await.unwrap();
    assert!(
        matches!(report.decisions.as_slice(), [S::Waiting { .. }]),
        "{report:?}"
    );
    w.clock.advance(chrono::Duration::days(1));
    let report = w.starter.handle(invoke(json!({"version": "0", "id": "s", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}))).await.unwrap();
    assert!(
        matches!(report.decisions.as_slice(), [S::Started { .. }]),
        "{report:?}"
    );
    assert_eq!(w.jobs.jobs().len(), 2);
}

#[tokio::test]
async fn a_failed_job_ends_failed_with_transcribes_reason_and_a_duplicate_restarts_it_once() {
    let w = world();
    let etag = w.upload("recordings/bad.mp3", "call-en.mp3", Some("en-US"));
    let job = started_job(&w.start("recordings/bad.mp3", &etag).await);
    // A FAILED event that Transcribe does not confirm is ignored.
    let report = w.analyser.handle(invoke(failed_event(&job))).await.unwrap();
    assert!(
        matches!(&report.decisions[0], A::Ignored { reason, .. } if reason == "Transcribe reports the job QUEUED")
    );
    w.jobs.set(
        &job,
        JobStatus::Failed,
        Some("The media format that you specified doesn't match the detected media format."),
    );
    let report = w.analyser.handle(invoke(failed_event(&job))).await.unwrap();
    match &report.decisions[0] {
        A::Failed { reason, .. } => assert!(reason.starts_with("The media format"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let call = w.calls.all().pop().unwrap();
    assert_eq!(call.status, Some(Status::Failed));
    // The event again: already finished.
    let report = w.analyser.handle(invoke(failed_event(&job))).await.unwrap();
    assert!(
        matches!(&report.decisions[0], A::AlreadyFinished { status, .. } if status == "FAILED")
    );
    // A re-delivered upload event restarts it as attempt 2, once.
    let second = started_job(&w.start("recordings/bad.mp3", &etag).await);
    assert_eq!(second, format!("{job}-a2"));
    w.jobs.set(&second, JobStatus::Failed, Some("again"));
    assert!(
        matches!(w.start("recordings/bad.mp3", &etag).await, S::GaveUp { .. }),
        "max_attempts = 2"
    );
    assert_eq!(w.jobs.jobs().len(), 2);
    // A FAILED event of the first attempt is stale now.
    let report = w.analyser.handle(invoke(failed_event(&job))).await.unwrap();
    assert!(matches!(&report.decisions[0], A::Ignored { .. }));
}

#[tokio::test]
async fn a_negative_call_is_analysed_stored_and_announced_once() {
    let w = world();
    let etag = w.upload("recordings/angry.mp3", "call-en.mp3", Some("en-US"));
    let job = started_job(&w.start("recordings/angry.mp3", &etag).await);
    w.counter.reset();
    match w.transcribe(&job, "diarised-two-speakers.json").await {
        A::Done {
            sentiment,
            chunks,
            announced,
            ..
        } => {
            assert_eq!(sentiment, "NEGATIVE");
            assert!(chunks >= 3, "{chunks}");
            assert!(announced);
        }
        other => panic!("{other:?}"),
    }
    // GetItem, GetObject, one batch, UpdateItem; then PutEvents, EventSentAt, the manager
    // topic, AnnouncedAt.
    let calls = w.counter.snapshot();
    assert_eq!(
        calls["dynamodb:GetItem"]
            + calls["s3:GetObject"]
            + calls["comprehend:BatchDetectSentiment"]
            + calls["dynamodb:UpdateItem"],
        6,
        "{calls:?}"
    );
    assert_eq!(calls["events:PutEvents"], 1);
    let call = w.calls.all().pop().unwrap();
    assert_eq!(call.status, Some(Status::Done));
    assert!(call.announced_at.is_some());
    let d = &call.details;
    assert_eq!(d["Speakers"]["spk_1"]["Sentiment"], "NEGATIVE", "{d}");
    assert_eq!(
        d["Trend"]["LastThird"]["Negative"]
            .as_f64()
            .map(|n| n > 0.5),
        Some(true),
        "{d}"
    );
    assert_eq!(d["WordCount"], 83, "the fixture's pronunciation items");
    assert_eq!(d["TranscriptKey"], format!("transcripts/{job}.json"));
    assert!(d["Excerpt"]
        .as_str()
        .unwrap()
        .starts_with("Thank you for calling"));
    let sent = w.announcer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "CallSentimentNegative");
    assert_eq!(sent[0].1["callId"], call.call_id);
    assert_eq!(sent[0].1["key"], "recordings/angry.mp3");
    assert_eq!(w.manager.sent().len(), 1);
    assert!(w.manager.sent()[0]
        .0
        .starts_with("Negative call: recordings/angry.mp3"));
    // The transcript event again: nothing new.
    let request = w.jobs.jobs().pop().unwrap();
    let report = w
        .analyser
        .handle(invoke(s3_event(&request.output_key, "t")))
        .await
        .unwrap();
    assert!(matches!(&report.decisions[0], A::AlreadyFinished { status, .. } if status == "DONE"));
    assert_eq!(w.announcer.sent().len(), 1);
}

#[tokio::test]
async fn a_failed_announcement_fails_the_invocation_and_the_retry_sends_it() {
    let w = world();
    let etag = w.upload("recordings/angry.mp3", "call-en.mp3", Some("en-US"));
    let job = started_job(&w.start("recordings/angry.mp3", &etag).await);
    *w.announcer.failure.lock().unwrap() = Some(ServiceError::new(
        "EventBridge",
        ErrorClass::Throttled,
        "ThrottlingException: Rate exceeded",
    ));
    let request = w.jobs.jobs().pop().unwrap();
    w.objects.put(
        BUCKET,
        &request.output_key,
        &transcript_for(&job, "diarised-two-speakers.json"),
        None,
        &[],
    );
    let err = w
        .analyser
        .handle(invoke(s3_event(&request.output_key, "t")))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Throttled);
    assert_eq!(
        w.calls.all()[0].status,
        Some(Status::Done),
        "stored before announcing"
    );
    *w.announcer.failure.lock().unwrap() = None;
    let report = w
        .analyser
        .handle(invoke(s3_event(&request.output_key, "t")))
        .await
        .unwrap();
    assert!(
        matches!(&report.decisions[0], A::Announced { .. }),
        "{report:?}"
    );
    assert_eq!(w.announcer.sent().len(), 1);
    assert!(w.calls.all()[0].announced_at.is_some());
}

/// The event went out but the manager's notice failed: the retry sends the notice, not a second
/// event (a manager's rule on the bus would otherwise page twice).
#[tokio::test]
async fn a_failed_manager_notice_is_retried_without_a_second_event() {
    let w = world();
    let etag = w.upload("recordings/angry.mp3", "call-en.mp3", Some("en-US"));
    let job = started_job(&w.start("recordings/angry.mp3", &etag).await);
    w.manager_failures.store(1, Ordering::SeqCst);
    let request = w.jobs.jobs().pop().unwrap();
    w.objects.put(
        BUCKET,
        &request.output_key,
        &transcript_for(&job, "diarised-two-speakers.json"),
        None,
        &[],
    );
    let err = w
        .analyser
        .handle(invoke(s3_event(&request.output_key, "t")))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Throttled);
    assert_eq!(w.announcer.sent().len(), 1);
    assert!(w.manager.sent().is_empty());
    let call = w.calls.all().pop().unwrap();
    assert!(call.event_sent_at.is_some() && call.announced_at.is_none());
    let report = w
        .analyser
        .handle(invoke(s3_event(&request.output_key, "t")))
        .await
        .unwrap();
    assert!(
        matches!(&report.decisions[0], A::Announced { .. }),
        "{report:?}"
    );
    assert_eq!(w.announcer.sent().len(), 1, "no second event");
    assert_eq!(w.manager.sent().len(), 1);
    assert!(w.calls.all()[0].announced_at.is_some());
}

#[tokio::test]
async fn positive_channel_call_is_done_and_not_announced() {
    let mut config = starter_config();
    config.speakers = Speakers::Channels;
    let w = world_with(config);
    let etag = w.upload("recordings/happy.wav", "call-en.wav", Some("en-US"));
    let job = started_job(&w.start("recordings/happy.wav", &etag).await);
    match w.transcribe(&job, "channels-two.json").await {
        A::Done {
            sentiment,
            announced,
            ..
        } => assert_eq!((sentiment.as_str(), announced), ("POSITIVE", false)),
        other => panic!("{other:?}"),
    }
    let call = w.calls.all().pop().unwrap();
    assert!(call.details["Speakers"].get("ch_1").is_some());
    assert!(w.announcer.sent().is_empty());
}

#[tokio::test]
async fn an_empty_transcript_is_no_speech() {
    let w = world();
    let etag = w.upload("recordings/silence.mp3", "call-en.mp3", Some("en-US"));
    let job = started_job(&w.start("recordings/silence.mp3", &etag).await);
    assert!(matches!(
        w.transcribe(&job, "empty.json").await,
        A::NoSpeech { .. }
    ));
    assert_eq!(w.calls.all()[0].status, Some(Status::NoSpeech));
    assert_eq!(w.counter.get("comprehend:BatchDetectSentiment"), 0);
}

#[tokio::test]
async fn only_transcripts_of_recorded_jobs_are_analysed() {
    let w = world();
    for key in [
        "transcripts/someone-else.json",
        "transcripts/call-forged-0123456789abcdef01234567.json",
        "transcripts/.write_access_check_file.temp",
        "recordings/x.mp3",
    ] {
        w.objects.put(
            BUCKET,
            key,
            &transcript_for("x", "diarised-two-speakers.json"),
            None,
            &[],
        );
        let report = w.analyser.handle(invoke(s3_event(key, "e"))).await.unwrap();
        assert!(
            matches!(&report.decisions[0], A::Ignored { .. }),
            "{key}: {report:?}"
        );
    }
    // A transcript whose jobName is not its file's job is forged.
    let etag = w.upload("recordings/a.mp3", "call-en.mp3", Some("en-US"));
    let job = started_job(&w.start("recordings/a.mp3", &etag).await);
    let key = format!("transcripts/{job}.json");
    w.objects.put(
        BUCKET,
        &key,
        &transcript_for("call-other", "diarised-two-speakers.json"),
        None,
        &[],
    );
    let report = w
        .analyser
        .handle(invoke(s3_event(&key, "e")))
        .await
        .unwrap();
    assert!(
        matches!(&report.decisions[0], A::Ignored { reason, .. } if reason.contains("jobName"))
    );
    assert_eq!(w.calls.all()[0].status, Some(Status::Transcribing));
    assert_eq!(w.counter.get("comprehend:BatchDetectSentiment"), 0);
    // The redacted file name is accepted.
    let redacted = format!("transcripts/redacted-{job}.json");
    w.objects.put(
        BUCKET,
        &redacted,
        &transcript_for(&job, "channels-two.json"),
        None,
        &[],
    );
    let report = w
        .analyser
        .handle(invoke(s3_event(&redacted, "e")))
        .await
        .unwrap();
    assert!(matches!(&report.decisions[0], A::Done { .. }), "{report:?}");
}

#[tokio::test]
async fn languages_comprehend_lacks_are_translated_first() {
    let mut config = starter_config();
    config.redaction = Redaction::Off;
    let w = world_with(config);
    let etag = w.upload("recordings/nl.mp3", "call-en.mp3", Some("nl-NL"));
    let job = started_job(&w.start("recordings/nl.mp3", &etag).await);
    w.counter.reset();
    assert!(matches!(
        w.transcribe(&job, "diarised-two-speakers.json").await,
        A::Done { .. }
    ));
    let call = w.calls.all().pop().unwrap();
    assert_eq!(call.details["TranslatedFrom"], "nl");
    assert_eq!(call.details["ScoredLanguage"], "en");
    let chunks = call.details["Chunks"].as_u64().unwrap() as usize;
    assert_eq!(w.counter.get("translate:TranslateText"), chunks);
}

#[tokio::test]
async fn partial_batch_failures_are_retried_once_then_raised_with_their_class() {
    let w = world();
    let etag = w.upload("recordings/a.mp3", "call-en.mp3", Some("en-US"));
    let job = started_job(&w.start("recordings/a.mp3", &etag).await);
    *w.scorer.fail_next.lock().unwrap() = 1;
    w.counter.reset();
    assert!(matches!(
        w.transcribe(&job, "diarised-two-speakers.json").await,
        A::Done { .. }
    ));
    assert_eq!(
        w.counter.get("comprehend:BatchDetectSentiment"),
        2,
        "the failed document alone, once more"
    );

    let w = world();
    let etag = w.upload("recordings/a.mp3", "call-en.mp3", Some("en-US"));
    let job = started_job(&w.start("recordings/a.mp3", &etag).await);
    *w.scorer.fail_next.lock().unwrap() = 1000;
    let request = w.jobs.jobs().pop().unwrap();
    w.objects.put(
        BUCKET,
        &request.output_key,
        &transcript_for(&job, "diarised-two-speakers.json"),
        None,
        &[],
    );
    let err = w
        .analyser
        .handle(invoke(s3_event(&request.output_key, "t")))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Unavailable, "{err}");
    assert_eq!(
        w.calls.all()[0].status,
        Some(Status::Transcribing),
        "nothing stored: Lambda retries"
    );

    *w.scorer.fail_next.lock().unwrap() = 0;
    *w.scorer.failure.lock().unwrap() = Some(ServiceError::new(
        "Comprehend",
        ErrorClass::Throttled,
        "ThrottlingException",
    ));
    let err = w
        .analyser
        .handle(invoke(s3_event(&request.output_key, "t")))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Throttled);
}

#[test]
fn every_error_has_one_class() {
    use call_center::transcript::TranscriptError;
    let cases = [
        (
            CallError::Service(ServiceError::new("S3", ErrorClass::Unavailable, "x")),
            ErrorClass::Unavailable,
        ),
        (
            CallError::WrongBucket {
                expected: "a".into(),
                got: "b".into(),
            },
            ErrorClass::InvalidEvent,
        ),
        (
            CallError::CorruptRecord {
                call_id: "c".into(),
                detail: "d".into(),
            },
            ErrorClass::CorruptState,
        ),
        (
            CallError::Transcript {
                key: "k".into(),
                error: TranscriptError::Json("x".into()),
            },
            ErrorClass::CorruptState,
        ),
        (
            CallError::Scoring {
                failed: 1,
                code: "INTERNAL_SERVER_ERROR".into(),
                message: "m".into(),
            },
            ErrorClass::Unavailable,
        ),
        (
            CallError::Scoring {
                failed: 1,
                code: "TEXT_SIZE_LIMIT_EXCEEDED".into(),
                message: "m".into(),
            },
            ErrorClass::Internal,
        ),
        (CallError::JobVanished("j".into()), ErrorClass::Internal),
    ];
    for (error, class) in cases {
        assert_eq!(error.class(), class, "{error}");
    }
}

#[tokio::test]
async fn the_memory_table_keeps_the_contract() {
    call_center::contract::calls(&MemoryCalls::default()).await;
}
