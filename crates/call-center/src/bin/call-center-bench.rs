//! Prints the figures the issue asks for: AWS calls per recording on each step (against the goals
//! starter ≤ 4, analyser ≤ 3 + ⌈chunks/25⌉ plus translations and announce channels), and the time
//! to parse and chunk a one-hour, two-speaker transcript of ~10,000 words, in memory.
//!
//! `cargo run --release -p call-center --no-default-features --features bench --bin call-center-bench`

use std::sync::Arc;
use std::time::Instant;

use call_center::analyser::Analyser;
use call_center::chunk::{plan, MAX_CHUNK_BYTES};
use call_center::config::{AnalyserConfig, Redaction, StarterConfig};
use call_center::memory::*;
use call_center::ports::{Speakers, MAX_BATCH};
use call_center::starter::{Decision, Starter};
use call_center::transcript;
use fleet_core::{EventHandler, FixedClock, RecordingNotifier};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

const BUCKET: &str = "calls-bucket";

/// A Transcribe output of `words` words over `seconds`, two speakers taking turns of 20–60 words,
/// the caller turning negative in the last third.
fn hour_long_transcript(job: &str, words: usize, seconds: f64) -> String {
    const VOCABULARY: &[&str] = &[
        "the",
        "account",
        "invoice",
        "payment",
        "order",
        "delivery",
        "yesterday",
        "please",
        "number",
        "check",
        "system",
        "customer",
        "support",
        "because",
        "really",
        "today",
    ];
    let step = seconds / words as f64;
    let mut items = Vec::with_capacity(words * 2);
    let mut segments = Vec::new();
    let mut text = String::new();
    let (mut i, mut speaker, mut turn_left, mut seg_items) = (0usize, 0, 35usize, Vec::new());
    let mut seg_start = 0.0;
    while i < words {
        let t = i as f64 * step;
        let late = t > seconds * 2.0 / 3.0 && speaker == 1;
        let word = if late && i % 9 == 0 {
            "terrible"
        } else if i % 41 == 0 {
            "thanks"
        } else {
            VOCABULARY[i * 7 % VOCABULARY.len()]
        };
        let label = format!("spk_{speaker}");
        let (start, end) = (format!("{t:.2}"), format!("{:.2}", t + step * 0.8));
        items.push(
            json!({"id": items.len(), "type": "pronunciation", "start_time": start, "end_time": end,
            "speaker_label": label, "alternatives": [{"confidence": "0.991", "content": word}]}),
        );
        seg_items.push(json!({"start_time": start, "end_time": end, "speaker_label": label}));
        text.push_str(word);
        text.push(' ');
        i += 1;
        turn_left -= 1;
        if turn_left % 12 == 0 || turn_left == 0 {
            items.push(json!({"id": items.len(), "type": "punctuation", "speaker_label": label, "alternatives": [{"confidence": "0.0", "content": "."}]}));
        }
        if turn_left == 0 || i == words {
            segments.push(json!({"start_time": format!("{seg_start:.2}"), "end_time": end, "speaker_label": label, "items": std::mem::take(&mut seg_items)}));
            speaker = 1 - speaker;
            turn_left = 20 + (i * 13) % 41;
            seg_start = t + step;
        }
    }
    json!({"jobName": job, "accountId": "123456789012", "status": "COMPLETED",
        "results": {"transcripts": [{"transcript": text.trim_end()}],
            "speaker_labels": {"speakers": 2, "segments": segments}, "items": items}})
    .to_string()
}

fn s3_event(key: &str, etag: &str) -> Value {
    json!({"Records": [{"eventTime": "2026-11-23T08:00:00Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {}, "requestParameters": {},
        "s3": {"bucket": {"name": BUCKET}, "object": {"key": call_center::keys::encode_s3_key(key), "size": 1, "eTag": etag}}}]})
}

struct Manager(Arc<RecordingNotifier>);
impl fleet_core::Notifier for Manager {
    async fn publish(&self, subject: &str, message: &str) -> Result<(), fleet_core::ServiceError> {
        self.0.publish(subject, message).await
    }
}

fn line(step: &str, counter: &CallCounter, goal: &str) {
    let calls = counter.snapshot();
    let detail: Vec<String> = calls.iter().map(|(k, v)| format!("{k}×{v}")).collect();
    println!(
        "{step:<44} {:>3} calls (goal {goal}): {}",
        counter.total(),
        detail.join(", ")
    );
    counter.reset();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let counter = CallCounter::default();
        let clock = Arc::new(FixedClock::at("2026-11-23T08:00:00Z".parse().expect("instant")));
        let objects = Arc::new(MemoryObjects::new(counter.clone()));
        let jobs = Arc::new(MemoryTranscription::new(counter.clone()));
        let calls = Arc::new(MemoryCalls::new(counter.clone()));
        let starter = Starter {
            objects: objects.clone(),
            transcription: jobs.clone(),
            calls: calls.clone(),
            clock: clock.clone(),
            config: StarterConfig {
                table: "calls".into(), bucket: BUCKET.into(), recordings_prefix: "recordings/".into(),
                transcripts_prefix: "transcripts/".into(), data_access_role_arn: "arn:aws:iam::1:role/t".into(),
                language_options: vec!["en-US".into()], speakers: Speakers::Labels(2), redaction: Redaction::WhenAvailable,
                daily_cap: 1000, max_attempts: 3,
            },
        };
        let analyser = Analyser {
            objects: objects.clone(),
            transcription: jobs.clone(),
            scorer: Arc::new(MemoryScorer::new(counter.clone())),
            translator: Arc::new(MemoryTranslator::new(counter.clone())),
            calls: calls.clone(),
            announcer: Arc::new(MemoryAnnouncer::new(counter.clone())),
            manager: Some(Manager(Arc::new(RecordingNotifier::default()))),
            clock: clock.clone(),
            config: AnalyserConfig {
                table: "calls".into(), bucket: BUCKET.into(), transcripts_prefix: "transcripts/".into(),
                base_language: "en".into(), negative_threshold: 0.9, event_bus: "default".into(), manager_topic_arn: None,
            },
        };
        let mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00 audio".to_vec();
        println!("AWS calls per recording (in-memory adapters counting each call)");
        for (key, language) in [("recordings/en.mp3", "en-US"), ("recordings/nl.mp3", "nl-NL")] {
            let etag = objects.put(BUCKET, key, &mp3, Some(language), &[]);
            counter.reset();
            let report = starter.handle(LambdaEvent::new(s3_event(key, &etag), Context::default())).await.expect("starter");
            let Decision::Started { job_name, .. } = &report.decisions[0] else { panic!("{report:?}") };
            line(&format!("starter, new recording ({language})"), &counter, "≤ 4");
            starter.handle(LambdaEvent::new(s3_event(key, &etag), Context::default())).await.expect("duplicate");
            line("starter, duplicate event", &counter, "-");
            let output = format!("transcripts/{job_name}.json");
            objects.put(BUCKET, &output, hour_long_transcript(job_name, 10_000, 3600.0).as_bytes(), None, &[]);
            counter.reset();
            let report = analyser.handle(LambdaEvent::new(s3_event(&output, "t"), Context::default())).await.expect("analyser");
            let chunks = calls.all().iter().find(|c| &c.job_name == job_name).and_then(|c| c.details["Chunks"].as_u64()).unwrap_or(0) as usize;
            let translate = if language == "en-US" { 0 } else { chunks };
            let goal = format!("3 + ⌈{chunks}/25⌉ = {} + {translate} translations + announce", 3 + chunks.div_ceil(MAX_BATCH));
            line(&format!("analyser, 1 h call ({language}), {chunks} chunks"), &counter, &goal);
            println!("  {:?}", report.decisions[0]);
        }

        println!("\nParse + turns + chunking of a one-hour two-speaker transcript (~10,000 words)");
        let json = hour_long_transcript("call-bench", 10_000, 3600.0);
        let rounds = 30;
        let mut times = Vec::with_capacity(rounds);
        let mut chunks = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            let t = transcript::parse(&json).expect("parse");
            let turns = transcript::turns(&t);
            chunks = plan(&turns, t.duration(), MAX_CHUNK_BYTES).len();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "  {} KB of JSON, {chunks} chunks: median {:.2} ms, min {:.2} ms, max {:.2} ms over {rounds} rounds",
            json.len() / 1024, times[rounds / 2], times[0], times[rounds - 1]
        );
    });
}
