//! The real handlers against the local stand-in (moto): its S3 (the bucket's notifications go to
//! SQS queues, so the S3 events the handlers receive are the ones moto produced, URL-encoded keys
//! and the leading `s3:TestEvent` included), its DynamoDB (the calls table and its conditional
//! writes), its Transcribe (jobs, `ConflictException`), its EventBridge and SNS.
//!
//! What moto cannot do is stood in for, and said so here: its Transcribe writes no transcript,
//! so the test writes a real-shaped one where Transcribe would; it never fails a job, so the
//! FAILED case reads the job's state through a port that reports it failed; its Comprehend has no
//! BatchDetectSentiment and it has no Translate, so those are the in-memory fakes behind their
//! ports (their adapters are tested with aws-smithy-mocks in aws_adapter.rs).

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use call_center::analyser::{Analyser, Decision as A};
use call_center::aws::*;
use call_center::config::{AnalyserConfig, StarterConfig};
use call_center::memory::{CallCounter, MemoryScorer, MemoryTranslator};
use call_center::ports::{JobRequest, JobState, JobStatus, Started, Transcription};
use call_center::starter::Decision as S;
use fleet_core::{Env, EventHandler, FromVars, ServiceError, SnsNotifier};
use fleet_testkit::{moto_api, Moto, ACCOUNT_ID, REGION};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

const BUCKET: &str = "cloudops-fleet-calls-test";
const TABLE: &str = "calls";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .unwrap()
}

/// moto's Transcribe never fails a job: this one reports second attempts (`…-a2`) as FAILED
/// with a reason and passes everything else to the real adapter.
struct FailingJob {
    inner: TranscribeJobs,
}

impl Transcription for FailingJob {
    async fn start(&self, job: &JobRequest) -> Result<Started, ServiceError> {
        self.inner.start(job).await
    }
    async fn get(&self, name: &str) -> Result<Option<JobState>, ServiceError> {
        if name.ends_with("-a2") {
            return Ok(Some(JobState {
                status: JobStatus::Failed,
                failure_reason: Some(
                    "The media format that you specified doesn't match the detected media format."
                        .into(),
                ),
                language_code: None,
            }));
        }
        self.inner.get(name).await
    }
}

struct Queues {
    sqs: aws_sdk_sqs::Client,
    starter: String,
    analyser: String,
}

impl Queues {
    /// Every S3 event body waiting on a queue (moto's `s3:TestEvent` dropped after being seen).
    async fn drain(&self, url: &str) -> Vec<Value> {
        fleet_testkit::sqs::drain_json(&self.sqs, url).await
    }
}

/// Every row of the calls table (calls and the daily job counters), by `CallId`.
async fn table_rows(
    sdk: &aws_config::SdkConfig,
) -> std::collections::BTreeMap<
    String,
    std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
> {
    fleet_testkit::seed::table_items(&aws_sdk_dynamodb::Client::new(sdk), TABLE, "CallId").await
}

/// A rule on the default bus sending the analyser's events to a new queue; its URL.
async fn capture_announcements(sdk: &aws_config::SdkConfig, sqs: &aws_sdk_sqs::Client) -> String {
    let url = sqs
        .create_queue()
        .queue_name("call-center-announcements")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap_or_default();
    let events = aws_sdk_eventbridge::Client::new(sdk);
    events
        .put_rule()
        .name("call-center-announcements")
        .event_pattern(json!({"source": [call_center::analyser::SOURCE]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("call-center-announcements")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(format!(
                    "arn:aws:sqs:{REGION}:{ACCOUNT_ID}:call-center-announcements"
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    url
}

fn invoke(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

async fn setup(moto: &Moto) -> (aws_sdk_s3::Client, Queues) {
    let sdk = moto.sdk_config();
    let s3 = S3Objects::new(&sdk).client;
    s3.create_bucket()
        .bucket(BUCKET)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let routes = [("starter", "recordings/"), ("analyser", "transcripts/")];
    let urls = fleet_testkit::sqs::notify_queues(&sqs, &s3, BUCKET, &routes).await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let index = (STATUS_INDEX, "Status", "CreatedAt");
    fleet_testkit::seed::create_indexed_table(&ddb, TABLE, "CallId", index).await;
    let queues = Queues {
        sqs,
        starter: urls[0].clone(),
        analyser: urls[1].clone(),
    };
    (s3, queues)
}

fn starter_config() -> StarterConfig {
    StarterConfig::from_vars(&[
        ("CALLS_TABLE", TABLE),
        ("RECORDINGS_BUCKET", BUCKET),
        (
            "DATA_ACCESS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/call-center-transcribe",
        ),
        ("DAILY_JOB_CAP", "10"),
    ])
    .unwrap()
}

#[tokio::test]
async fn recordings_to_sentiment_through_the_stand_in() {
    let moto = Moto::start();
    // moto's default: one status step per GetTranscriptionJob (QUEUED → IN_PROGRESS → COMPLETED).
    moto_api::set_transition(
        &moto,
        "transcribe::transcriptionjob",
        json!({"progression": "manual", "times": 1}),
    );
    let (s3, queues) = setup(&moto).await;
    let sdk = moto.sdk_config();
    let (env, _clock) = Env::fixed("2026-11-23T08:00:00Z".parse().unwrap());
    let starter = wire_starter(&sdk, starter_config(), env.clone())
        .await
        .unwrap();

    // moto's first message on each queue is its s3:TestEvent; the handlers take it as a no-op.
    for url in [&queues.starter, &queues.analyser] {
        let first = queues.drain(url).await;
        assert_eq!(first.len(), 1, "{first:?}");
        assert_eq!(first[0]["Event"], "s3:TestEvent");
        assert!(starter
            .handle(invoke(first[0].clone()))
            .await
            .unwrap()
            .decisions
            .is_empty());
    }

    // A recording with spaces, '+', '&' and accents in its name, in English.
    let key = "recordings/2026/11/Call with Ann+Bob & Zoé.mp3";
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .content_language("en-US")
        .body(ByteStream::from(fixture("call-en.mp3")))
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(BUCKET)
        .key("recordings/not-audio.mp3")
        .body(ByteStream::from(fixture("not-audio.mp3")))
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(BUCKET)
        .key("recordings/empty.mp3")
        .body(ByteStream::from(Vec::new()))
        .send()
        .await
        .unwrap();
    let events = queues.drain(&queues.starter).await;
    assert_eq!(events.len(), 3);
    let raw_key = events[0]["Records"][0]["s3"]["object"]["key"]
        .as_str()
        .unwrap();
    assert!(
        raw_key.contains('+') && raw_key.contains("%2B") && raw_key.contains("%C3%A9"),
        "moto encodes keys: {raw_key}"
    );

    let report = starter.handle(invoke(events[0].clone())).await.unwrap();
    let S::Started { call_id, job_name } = report.decisions[0].clone() else {
        panic!("{report:?}")
    };
    assert_eq!(call_id, job_name);
    let rows_after_first = table_rows(&sdk).await;
    // The same event delivered twice more: one job.
    for _ in 0..2 {
        let again = starter.handle(invoke(events[0].clone())).await.unwrap();
        assert!(
            matches!(&again.decisions[0], S::AlreadyRunning { job_name: j, .. } if *j == job_name),
            "{again:?}"
        );
    }
    let transcribe = aws_sdk_transcribe::Client::new(&sdk);
    let jobs = transcribe.list_transcription_jobs().send().await.unwrap();
    assert_eq!(jobs.transcription_job_summaries().len(), 1);
    assert_eq!(
        table_rows(&sdk).await,
        rows_after_first,
        "the call and the day's job count as after the first delivery"
    );
    let calls = DynamoCalls {
        client: aws_sdk_dynamodb::Client::new(&sdk),
        table: TABLE.into(),
    };
    use call_center::ports::Calls;
    let call = calls.get(&call_id).await.unwrap().unwrap();
    assert_eq!(call.status, Some(call_center::call::Status::Transcribing));
    assert_eq!(call.key, "recordings/2026/11/Call with Ann+Bob & Zoé.mp3");
    assert_eq!(call.language.as_deref(), Some("en-US"));

    // The text file and the empty object are REJECTED with their reasons, and start no job.
    for (event, reason) in [
        (
            &events[1],
            "the name says mp3 but the content looks like text",
        ),
        (&events[2], "the object is empty"),
    ] {
        let report = starter.handle(invoke(event.clone())).await.unwrap();
        let S::Rejected {
            call_id,
            reason: got,
        } = report.decisions[0].clone()
        else {
            panic!("{report:?}")
        };
        assert_eq!(got, reason);
        let stored = calls.get(&call_id).await.unwrap().unwrap();
        assert_eq!(
            (stored.status, stored.reason.as_deref()),
            (Some(call_center::call::Status::Rejected), Some(reason))
        );
    }
    assert_eq!(
        transcribe
            .list_transcription_jobs()
            .send()
            .await
            .unwrap()
            .transcription_job_summaries()
            .len(),
        1
    );

    // Transcribe finishes (moto writes nothing): the transcript where the job said.
    let transcript = String::from_utf8(fixture("transcripts/diarised-two-speakers.json"))
        .unwrap()
        .replace("JOB_NAME", &job_name);
    let transcript_key = format!("transcripts/{job_name}.json");
    s3.put_object()
        .bucket(BUCKET)
        .key(&transcript_key)
        .body(ByteStream::from(transcript.into_bytes()))
        .send()
        .await
        .unwrap();
    assert!(
        queues.drain(&queues.starter).await.is_empty(),
        "outputs never reach the starter"
    );
    let transcript_events = queues.drain(&queues.analyser).await;
    assert_eq!(transcript_events.len(), 1);
    // Even if one did, the starter ignores it.
    assert!(matches!(
        &starter
            .handle(invoke(transcript_events[0].clone()))
            .await
            .unwrap()
            .decisions[0],
        S::Ignored { .. }
    ));

    let sns = fleet_core::aws::SnsClient::new(&sdk);
    let topic = sns
        .create_topic()
        .name("managers")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let announcements = capture_announcements(&sdk, &queues.sqs).await;
    let counter = CallCounter::default();
    let analyser = Analyser {
        objects: S3Objects::new(&sdk),
        transcription: FailingJob {
            inner: TranscribeJobs {
                client: transcribe.clone(),
            },
        },
        scorer: MemoryScorer::new(counter.clone()),
        translator: MemoryTranslator::new(counter.clone()),
        calls: calls.clone(),
        announcer: EventBridgeAnnouncer {
            client: aws_sdk_eventbridge::Client::new(&sdk),
            bus: "default".into(),
        },
        manager: Some(SnsNotifier::new(sns.clone(), topic.clone())),
        clock: Arc::clone(&env.clock),
        config: AnalyserConfig::from_vars(&[
            ("CALLS_TABLE", TABLE),
            ("RECORDINGS_BUCKET", BUCKET),
            ("MANAGER_TOPIC_ARN", topic.as_str()),
        ])
        .unwrap(),
    };
    let report = analyser
        .handle(invoke(transcript_events[0].clone()))
        .await
        .unwrap();
    assert!(
        matches!(&report.decisions[0], A::Done { sentiment, announced: true, .. } if sentiment == "NEGATIVE"),
        "{report:?}"
    );
    let done = calls.get(&call_id).await.unwrap().unwrap();
    assert_eq!(done.status, Some(call_center::call::Status::Done));
    assert_eq!(
        done.sentiment,
        Some(call_center::sentiment::Label::Negative)
    );
    assert!(done.announced_at.is_some());
    assert_eq!(
        done.details["Speakers"]["spk_1"]["Sentiment"], "NEGATIVE",
        "{}",
        done.details
    );
    assert!(done.details["Trend"]["Direction"].as_str().is_some());
    assert_eq!(done.details["TranscriptKey"], transcript_key.as_str());
    assert_eq!(counter.get("comprehend:BatchDetectSentiment"), 1);
    let mails = moto.sns_messages();
    assert_eq!(mails.len(), 1);
    assert!(mails[0]
        .subject
        .as_deref()
        .unwrap_or_default()
        .starts_with("Negative call: recordings/2026/11/Call with Ann+Bob"));
    let announced = queues.drain(&announcements).await;
    assert_eq!(announced.len(), 1, "{announced:#?}");
    assert_eq!(announced[0]["source"], call_center::analyser::SOURCE);
    assert_eq!(
        announced[0]["detail"]["callId"],
        call_id.as_str(),
        "{announced:#?}"
    );
    let calls_after_first = counter.snapshot();
    let rows_after_first = table_rows(&sdk).await;
    // The transcript event again (S3 delivers at least once, Lambda retries): already finished,
    // nothing scored, stored, announced or sent twice.
    let again = analyser
        .handle(invoke(transcript_events[0].clone()))
        .await
        .unwrap();
    assert!(
        matches!(&again.decisions[0], A::AlreadyFinished { .. }),
        "{again:?}"
    );
    assert_eq!(
        counter.snapshot(),
        calls_after_first,
        "no second Comprehend or Translate call"
    );
    assert_eq!(counter.get("comprehend:BatchDetectSentiment"), 1);
    assert_eq!(
        table_rows(&sdk).await,
        rows_after_first,
        "the call's row as after the first run"
    );
    let announced = queues.drain(&announcements).await;
    assert!(announced.is_empty(), "announced twice: {announced:#?}");
    assert_eq!(moto.sns_messages().len(), 1);

    // A stray transcript under transcripts/ for no recorded job is ignored.
    s3.put_object()
        .bucket(BUCKET)
        .key("transcripts/forged.json")
        .body(ByteStream::from_static(b"{}"))
        .send()
        .await
        .unwrap();
    let stray = queues.drain(&queues.analyser).await;
    assert!(matches!(
        &analyser
            .handle(invoke(stray[0].clone()))
            .await
            .unwrap()
            .decisions[0],
        A::Ignored { .. }
    ));

    // A second recording whose job fails: the EventBridge FAILED event ends the call FAILED with
    // Transcribe's reason (GetTranscriptionJob through the failing stand-in above).
    s3.put_object()
        .bucket(BUCKET)
        .key("recordings/second.wav")
        .content_language("en-US")
        .body(ByteStream::from(fixture("call-en.wav")))
        .send()
        .await
        .unwrap();
    let second = queues.drain(&queues.starter).await;
    let S::Started {
        call_id: second_call,
        job_name: second_job,
    } = starter
        .handle(invoke(second[0].clone()))
        .await
        .unwrap()
        .decisions[0]
        .clone()
    else {
        panic!()
    };
    let second_record = calls.get(&second_call).await.unwrap().unwrap();
    let failed_job = format!("{second_job}-a2");
    let restarted = call_center::call::NewCall {
        call_id: second_call.clone(),
        bucket: BUCKET.into(),
        key: second_record.key.clone(),
        etag: second_record.etag.clone(),
        version_id: None,
        language: Some("en-US".into()),
        redacted: true,
        at: "2026-11-23T09:00:00Z".into(),
        attempt: 2,
        job_name: failed_job.clone(),
    };
    let failed_event = |job: &str| {
        json!({"version": "0", "id": "e", "detail-type": "Transcribe Job State Change", "source": "aws.transcribe",
        "account": ACCOUNT_ID, "time": "2026-11-23T08:20:00Z", "region": REGION, "resources": [],
        "detail": {"TranscriptionJobName": job, "TranscriptionJobStatus": "FAILED"}})
    };
    // moto's job is not failed: a FAILED event for it is not believed.
    let report = analyser
        .handle(invoke(failed_event(&second_job)))
        .await
        .unwrap();
    assert!(
        matches!(&report.decisions[0], A::Ignored { .. }),
        "{report:?}"
    );
    // A second attempt (as the starter makes after a failure), which the stand-in reports FAILED.
    assert_eq!(
        calls
            .restart(&restarted, &second_job, "2026-11-23", 10)
            .await
            .unwrap(),
        call_center::call::Begin::Started
    );
    let report = analyser
        .handle(invoke(failed_event(&failed_job)))
        .await
        .unwrap();
    assert!(
        matches!(&report.decisions[0], A::Failed { reason, .. } if reason.starts_with("The media format")),
        "{report:?}"
    );
    let failed = calls.get(&second_call).await.unwrap().unwrap();
    assert_eq!(failed.status, Some(call_center::call::Status::Failed));
    assert!(failed.reason.unwrap().starts_with("The media format"));
}

#[tokio::test]
async fn the_dynamodb_table_keeps_the_contract() {
    let moto = Moto::start();
    let _ = setup(&moto).await;
    let calls = DynamoCalls {
        client: aws_sdk_dynamodb::Client::new(&moto.sdk_config()),
        table: TABLE.into(),
    };
    call_center::contract::calls(&calls).await;
}
