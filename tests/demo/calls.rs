//! The call-center pipeline: a recording dropped into the bucket, the S3 event the stand-in
//! produced (URL-encoded key) handed to the starter, its Transcribe job, the transcript written
//! where Transcribe writes it, the analyser's sentiment row in the calls table.
//!
//! What stands in: the stand-in's Transcribe writes no transcript, so the demo writes a
//! real-shaped one (`crates/call-center/fixtures/transcripts/`); its Comprehend has no
//! BatchDetectSentiment and there is no Translate, so those two are the in-memory scorer and
//! translator behind the same ports (their adapters are tested with aws-smithy-mocks).

use aws_sdk_s3::primitives::ByteStream;
use call_center::analyser::{Analyser, Decision as Analysed};
use call_center::config::{AnalyserConfig, StarterConfig};
use call_center::memory::{CallCounter, MemoryScorer, MemoryTranslator};
use call_center::ports::Transcription;
use call_center::starter::Decision as Started;
use dlq_handler::aws::s3_client;
use fleet_core::{Env, EventHandler};
use fleet_testkit::sqs::drain_json;
use fleet_testkit::{moto_api, workspace_root, Moto};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

use super::{config, ensure, OrSay, Outcome};

/// The template's bucket name for the stand-in's account and region.
pub const BUCKET: &str = "cloudops-fleet-calls-123456789012-eu-west-1";

pub fn fixture(name: &str) -> Result<Vec<u8>, String> {
    let path = workspace_root()
        .join("crates/call-center/fixtures")
        .join(name);
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The bucket's notifications to one queue per prefix, as the template sends `recordings/` to
/// the starter and `transcripts/` to the analyser; returns the queues' URLs in that order, with
/// the stand-in's `s3:TestEvent` already taken off each.
pub async fn notify_queues(sqs: &aws_sdk_sqs::Client, s3: &aws_sdk_s3::Client) -> (String, String) {
    let routes = [
        ("calls-starter", "recordings/"),
        ("calls-analyser", "transcripts/"),
    ];
    let mut urls = fleet_testkit::sqs::notify_queues(sqs, s3, BUCKET, &routes).await;
    for url in &urls {
        drain_json(sqs, url).await;
    }
    let analyser = urls.pop().unwrap_or_default();
    let starter = urls.pop().unwrap_or_default();
    (starter, analyser)
}

fn invoke(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

pub async fn run(moto: &Moto) -> Outcome {
    let sdk = moto.sdk_config();
    moto_api::set_transition(
        moto,
        "transcribe::transcriptionjob",
        json!({"progression": "manual", "times": 1}),
    );
    let s3 = s3_client(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let (starter_queue, analyser_queue) = notify_queues(&sqs, &s3).await;
    let (env, _clock) = Env::fixed(chrono::Utc::now());
    let starter_config: StarterConfig = config(moto, "call-center-starter", &[])?;
    let starter = call_center::aws::wire_starter(&sdk, starter_config, env.clone())
        .await
        .map_err(|e| e.to_string())?;
    let analyser_config: AnalyserConfig = config(moto, "call-center-analyser", &[])?;
    let wired = call_center::aws::wire_analyser(&sdk, analyser_config, env)
        .await
        .map_err(|e| e.to_string())?;
    let counter = CallCounter::default();
    let analyser = Analyser {
        objects: wired.objects,
        transcription: wired.transcription,
        scorer: MemoryScorer::new(counter.clone()),
        translator: MemoryTranslator::new(counter),
        calls: wired.calls,
        announcer: wired.announcer,
        manager: wired.manager,
        clock: wired.clock,
        config: wired.config,
    };

    let key = "recordings/2026/11/Call with Ann+Bob & Zoé.mp3";
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .content_language("en-US")
        .body(ByteStream::from(fixture("call-en.mp3")?))
        .send()
        .await
        .or_say("uploading the recording")?;
    println!("Uploaded s3://{BUCKET}/{key} (English).");
    let events = drain_json(&sqs, &starter_queue).await;
    let event = events.first().ok_or("the upload produced no S3 event")?;
    println!(
        "S3 event key as delivered: {}",
        event["Records"][0]["s3"]["object"]["key"]
            .as_str()
            .unwrap_or("?")
    );
    let report = starter
        .handle(invoke(event.clone()))
        .await
        .map_err(|e| format!("the starter failed: {e}"))?;
    let Some(Started::Started { call_id, job_name }) = report.decisions.first().cloned() else {
        return Err(format!("the starter decided {:?}", report.decisions));
    };
    println!("Starter: call {call_id}, Transcribe job {job_name} started.");
    let again = starter
        .handle(invoke(event.clone()))
        .await
        .map_err(|e| format!("the starter failed on the repeat: {e}"))?;
    ensure(
        matches!(
            again.decisions.first(),
            Some(Started::AlreadyRunning { .. })
        ),
        || format!("the repeated event decided {:?}", again.decisions),
    )?;
    println!("The same S3 event again: already running, no second job.");
    let job = starter
        .transcription
        .get(&job_name)
        .await
        .map_err(|e| format!("reading the job: {e}"))?
        .ok_or("the job is not in Transcribe")?;
    println!("Transcribe job {job_name}: {:?}", job.status);

    // Transcribe finishes; the stand-in writes nothing, so the transcript is written where the
    // job said.
    let transcript = String::from_utf8(fixture("transcripts/diarised-two-speakers.json")?)
        .map_err(|e| e.to_string())?
        .replace("JOB_NAME", &job_name);
    let transcript_key = format!("transcripts/{job_name}.json");
    s3.put_object()
        .bucket(BUCKET)
        .key(&transcript_key)
        .body(ByteStream::from(transcript.into_bytes()))
        .send()
        .await
        .or_say("writing the transcript")?;
    println!("Transcript written to s3://{BUCKET}/{transcript_key} (as Transcribe would).");
    let events = drain_json(&sqs, &analyser_queue).await;
    let event = events
        .first()
        .ok_or("the transcript produced no S3 event")?;
    let report = analyser
        .handle(invoke(event.clone()))
        .await
        .map_err(|e| format!("the analyser failed: {e}"))?;
    ensure(
        matches!(report.decisions.first(), Some(Analysed::Done { .. })),
        || format!("the analyser decided {:?}", report.decisions),
    )?;

    let row = call_center::cli::show(&analyser.calls, &call_id)
        .await
        .map_err(|e| e.to_string())?;
    println!("\n── the call's row (as `fleet calls show {call_id}` prints it) ──\n{row}");
    let record = call_center::ports::Calls::get(&analyser.calls, &call_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the call's row is gone")?;
    ensure(
        record.status == Some(call_center::call::Status::Done)
            && record.sentiment == Some(call_center::sentiment::Label::Negative),
        || format!("the row ended {:?} {:?}", record.status, record.sentiment),
    )?;
    ensure(record.key == key, || {
        format!("the row names {}", record.key)
    })?;
    Ok(
        "an upload with spaces, '+', '&' and an accent started one Transcribe job (a repeated \
        event none), and its transcript ended as a DONE row with the call's sentiment \
        (NEGATIVE), per speaker and its trend"
            .into(),
    )
}
