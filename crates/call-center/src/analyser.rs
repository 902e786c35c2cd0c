//! The analyser: a transcript Transcribe wrote under `transcripts/` becomes the call's sentiment,
//! and a FAILED job becomes a FAILED call with Transcribe's reason.
//!
//! Per transcript (3 + ⌈chunks/25⌉ AWS calls, plus one TranslateText per chunk when the language
//! needs it, plus one per announce channel and the `EventSentAt` and `AnnouncedAt` marks for a
//! negative call):
//! GetItem (only jobs the starter recorded are analysed; a duplicate finds the call finished),
//! GetObject of the transcript, BatchDetectSentiment per 25 chunks, one conditional UpdateItem.

use std::sync::Arc;

use fleet_core::{Clock, EventHandler, HandlerError, Notifier};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::{json, Value};

use crate::call::{self, Analysis, CallRecord, Outcome, Status};
use crate::chunk::{self, Chunk, MAX_CHUNK_BYTES};
use crate::config::AnalyserConfig;
use crate::error::CallError;
use crate::jobname;
use crate::language;
use crate::ports::{
    Announcer, Calls, ItemFailure, JobStatus, Objects, SentimentScorer, Transcription, Translator,
    MAX_BATCH, MAX_TRANSLATE_BYTES,
};
use crate::sentiment::{self, Scored};
use crate::transcript;
use crate::trigger::{self, AnalyserTrigger, ObjectCreated};

/// The EventBridge detail type of an announcement.
pub const DETAIL_TYPE: &str = "CallSentimentNegative";
/// The EventBridge source of an announcement.
pub const SOURCE: &str = "cloudops-fleet.call-center";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision")]
pub enum Decision {
    Done {
        call_id: String,
        sentiment: String,
        chunks: usize,
        announced: bool,
    },
    NoSpeech {
        call_id: String,
    },
    Failed {
        call_id: String,
        reason: String,
    },
    AlreadyFinished {
        call_id: String,
        status: String,
    },
    /// A re-delivery found an announcement still due and sent it.
    Announced {
        call_id: String,
    },
    /// Not a transcript of a job the starter recorded, or a stale/forged event.
    Ignored {
        key: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnalyserReport {
    pub decisions: Vec<Decision>,
}

pub struct Analyser<O, T, S, L, C, A, N> {
    pub objects: O,
    pub transcription: T,
    pub scorer: S,
    pub translator: L,
    pub calls: C,
    pub announcer: A,
    /// The optional manager topic (SNS, email).
    pub manager: Option<N>,
    pub clock: Arc<dyn Clock>,
    pub config: AnalyserConfig,
}

impl<O, T, S, L, C, A, N> EventHandler for Analyser<O, T, S, L, C, A, N>
where
    O: Objects,
    T: Transcription,
    S: SentimentScorer,
    L: Translator,
    C: Calls,
    A: Announcer,
    N: Notifier,
{
    type Output = AnalyserReport;

    async fn handle(&self, event: LambdaEvent<Value>) -> Result<AnalyserReport, HandlerError> {
        let mut report = AnalyserReport::default();
        match trigger::analyser(event.payload)? {
            AnalyserTrigger::Test => tracing::info!("s3:TestEvent: nothing to do"),
            AnalyserTrigger::Objects(objects) => {
                for object in objects {
                    report.decisions.push(self.transcript(&object).await?);
                }
            }
            AnalyserTrigger::JobFailed { job_name } => {
                report.decisions.push(self.job_failed(&job_name).await?)
            }
        }
        Ok(report)
    }
}

impl<O, T, S, L, C, A, N> Analyser<O, T, S, L, C, A, N>
where
    O: Objects,
    T: Transcription,
    S: SentimentScorer,
    L: Translator,
    C: Calls,
    A: Announcer,
    N: Notifier,
{
    fn now(&self) -> String {
        self.clock
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// The call a job belongs to, if the starter recorded that job: `Err(decision)` otherwise.
    async fn recorded_call(
        &self,
        job: &str,
        key: &str,
    ) -> Result<Result<CallRecord, Decision>, CallError> {
        let ignored = |reason: String| {
            tracing::warn!(job_name = job, key, reason = %reason, "ignored: not a job the starter recorded");
            Ok(Err(Decision::Ignored {
                key: key.to_owned(),
                reason,
            }))
        };
        let Some((call_id, _)) = jobname::parse_job_name(job) else {
            return ignored(format!("{job:?} is not a job name this pipeline makes"));
        };
        let Some(call) = self.calls.get(&call_id).await? else {
            return ignored(format!("no call is recorded for job {job}"));
        };
        if call.job_name != job {
            return ignored(format!(
                "call {call_id} records job {}, not {job} (a stale or forged event)",
                call.job_name
            ));
        }
        Ok(Ok(call))
    }

    /// A transcript object was written.
    pub async fn transcript(&self, object: &ObjectCreated) -> Result<Decision, CallError> {
        let cfg = &self.config;
        if object.bucket != cfg.bucket {
            return Err(CallError::WrongBucket {
                expected: cfg.bucket.clone(),
                got: object.bucket.clone(),
            });
        }
        let key = object.key.as_str();
        let ignore = |reason: &str| {
            tracing::info!(key, reason, "ignored");
            Ok(Decision::Ignored {
                key: key.to_owned(),
                reason: reason.to_owned(),
            })
        };
        let Some(file) = key.strip_prefix(cfg.transcripts_prefix.as_str()) else {
            return ignore("not under the transcripts prefix");
        };
        // Transcribe also writes `.write_access_check_file.temp` to check it may write here.
        let Some(job) = file.strip_suffix(".json") else {
            return ignore("not a transcript (.json)");
        };
        if file.contains('/') {
            return ignore("in a subfolder of the transcripts prefix");
        }
        // With redaction, Transcribe names the file `redacted-<job>.json`.
        let job = job.strip_prefix("redacted-").unwrap_or(job);
        let call = match self.recorded_call(job, key).await? {
            Ok(call) => call,
            Err(decision) => return Ok(decision),
        };
        match call.status {
            Some(Status::Transcribing) => {}
            Some(Status::Done) if call.announce_reason.is_some() && call.announced_at.is_none() => {
                // An earlier delivery stored the result but failed to announce it.
                self.announce(&call, None).await?;
                return Ok(Decision::Announced {
                    call_id: call.call_id,
                });
            }
            status => {
                let status = status.map_or("UNKNOWN", Status::as_str).to_owned();
                tracing::info!(call_id = %call.call_id, %status, "duplicate transcript event: already finished");
                return Ok(Decision::AlreadyFinished {
                    call_id: call.call_id,
                    status,
                });
            }
        }
        let Some(text) = self.objects.read_text(&object.bucket, key).await? else {
            return ignore("the transcript no longer exists");
        };
        let parsed = transcript::parse(&text).map_err(|error| CallError::Transcript {
            key: key.to_owned(),
            error,
        })?;
        if !parsed.job_name.is_empty() && parsed.job_name != job {
            return ignore("the transcript's jobName does not match its file name");
        }
        let at = self.now();
        if parsed.is_empty() {
            let outcome = Outcome::NoSpeech {
                transcript_key: key.to_owned(),
                duration_seconds: parsed.duration(),
            };
            return self.finish(&call, job, outcome, &at).await;
        }
        let language = call
            .language
            .clone()
            .or_else(|| parsed.language_code.clone())
            .unwrap_or_else(|| "en-US".to_owned());
        let turns = transcript::turns(&parsed);
        let mut chunks = chunk::plan(&turns, parsed.duration(), MAX_CHUNK_BYTES);
        let (scored_language, translated_from) = match language::comprehend_code(&language) {
            Some(code) => (code.to_owned(), None),
            None => {
                let from = language::translate_code(&language);
                chunks = self.translate(chunks, &from).await?;
                (cfg.base_language.clone(), Some(from))
            }
        };
        let scored = self.score(&chunks, &scored_language).await?;
        let Some(sentiment) = sentiment::analyse(&scored) else {
            let outcome = Outcome::NoSpeech {
                transcript_key: key.to_owned(),
                duration_seconds: parsed.duration(),
            };
            return self.finish(&call, job, outcome, &at).await;
        };
        let announce_reason = sentiment.negative_reason(cfg.negative_threshold);
        let analysis = Analysis {
            duration_seconds: parsed.duration(),
            word_count: parsed.word_count(),
            language,
            scored_language,
            translated_from,
            transcript_key: key.to_owned(),
            excerpt: call::excerpt(&parsed.text),
            chunks: chunks.len(),
            announce_reason,
            sentiment,
        };
        self.finish(&call, job, Outcome::Done(Box::new(analysis)), &at)
            .await
    }

    /// EventBridge said the job FAILED: the reason comes from GetTranscriptionJob.
    pub async fn job_failed(&self, job: &str) -> Result<Decision, CallError> {
        let call = match self.recorded_call(job, job).await? {
            Ok(call) => call,
            Err(decision) => return Ok(decision),
        };
        if call.status != Some(Status::Transcribing) {
            return Ok(Decision::AlreadyFinished {
                call_id: call.call_id,
                status: call.status.map_or("UNKNOWN", Status::as_str).to_owned(),
            });
        }
        let Some(state) = self.transcription.get(job).await? else {
            return Ok(Decision::Ignored {
                key: job.to_owned(),
                reason: "Transcribe has no such job".into(),
            });
        };
        if state.status != JobStatus::Failed {
            tracing::warn!(
                job_name = job,
                status = state.status.as_str(),
                "FAILED event for a job Transcribe does not report failed: ignored"
            );
            return Ok(Decision::Ignored {
                key: job.to_owned(),
                reason: format!("Transcribe reports the job {}", state.status.as_str()),
            });
        }
        let reason = state
            .failure_reason
            .unwrap_or_else(|| "Transcribe gave no reason".to_owned());
        let at = self.now();
        self.finish(&call, job, Outcome::Failed { reason }, &at)
            .await
    }

    async fn finish(
        &self,
        call: &CallRecord,
        job: &str,
        outcome: Outcome,
        at: &str,
    ) -> Result<Decision, CallError> {
        let call_id = call.call_id.clone();
        if !self.calls.finish(&call_id, job, &outcome, at).await? {
            let now = self.calls.get(&call_id).await?;
            let status = now
                .and_then(|c| c.status)
                .map_or("UNKNOWN", Status::as_str)
                .to_owned();
            tracing::info!(%call_id, %status, "finished concurrently by another delivery");
            return Ok(Decision::AlreadyFinished { call_id, status });
        }
        match outcome {
            Outcome::NoSpeech { .. } => {
                tracing::info!(%call_id, "no speech in the transcript");
                Ok(Decision::NoSpeech { call_id })
            }
            Outcome::Failed { reason } => {
                tracing::warn!(%call_id, job_name = job, %reason, "transcription failed");
                Ok(Decision::Failed { call_id, reason })
            }
            Outcome::Done(analysis) => {
                let label = analysis.sentiment.label().as_str().to_owned();
                tracing::info!(%call_id, sentiment = %label, chunks = analysis.chunks, translated = analysis.translated_from.is_some(), "call analysed");
                let announced = analysis.announce_reason.is_some();
                if announced {
                    self.announce(call, Some(&analysis)).await?;
                }
                Ok(Decision::Done {
                    call_id,
                    sentiment: label,
                    chunks: analysis.chunks,
                    announced,
                })
            }
        }
    }

    /// EventBridge (once: `EventSentAt`), then the manager topic, then `AnnouncedAt` once. A
    /// failure raises, so the retry finds the call DONE with the announcement still due and sends
    /// what is left of it then.
    async fn announce(
        &self,
        call: &CallRecord,
        analysis: Option<&Analysis>,
    ) -> Result<(), CallError> {
        let reason = analysis
            .and_then(|a| a.announce_reason.clone())
            .or_else(|| call.announce_reason.clone())
            .unwrap_or_default();
        let (sentiment, negative, speakers, excerpt) = match analysis {
            Some(a) => (
                a.sentiment.label().as_str().to_owned(),
                a.sentiment.overall.negative,
                a.sentiment
                    .speakers
                    .iter()
                    .map(|(s, v)| (s.clone(), json!(v.label().as_str())))
                    .collect::<serde_json::Map<_, _>>(),
                a.excerpt.clone(),
            ),
            None => (
                call.sentiment.map_or("UNKNOWN", |l| l.as_str()).to_owned(),
                call.negative.unwrap_or_default(),
                serde_json::Map::new(),
                call.details
                    .get("Excerpt")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
        };
        let detail = json!({
            "callId": call.call_id,
            "bucket": call.bucket,
            "key": call.key,
            "sentiment": sentiment,
            "negativeScore": (negative * 1000.0).round() / 1000.0,
            "reason": reason,
            "speakers": speakers,
        });
        if call.event_sent_at.is_none() {
            self.announcer.announce(DETAIL_TYPE, &detail).await?;
            // Recorded so that a retry after a failed manager notice does not send it again.
            self.calls
                .mark_event_sent(&call.call_id, &self.now())
                .await?;
        }
        if let Some(manager) = &self.manager {
            let subject = format!("Negative call: {}", call.key);
            let message = format!(
                "Call {}\nRecording s3://{}/{}\nSentiment {sentiment}: {reason}\n\n{excerpt}\n\nfleet calls show {}",
                call.call_id, call.bucket, call.key, call.call_id
            );
            manager.publish(&subject, &message).await?;
        }
        if self
            .calls
            .mark_announced(&call.call_id, &self.now())
            .await?
        {
            tracing::info!(call_id = %call.call_id, %reason, "negative call announced");
        }
        Ok(())
    }

    /// Each chunk translated into the base language (one TranslateText per chunk, each ≤ 5,000
    /// bytes, well within Translate's 10,000), re-chunked when the translation grew.
    async fn translate(&self, chunks: Vec<Chunk>, from: &str) -> Result<Vec<Chunk>, CallError> {
        let to = self.config.base_language.as_str();
        let mut out = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            debug_assert!(chunk.text.len() <= MAX_TRANSLATE_BYTES);
            let translated = self.translator.translate(&chunk.text, from, to).await?;
            for text in chunk::chunk_text([translated.as_str()], MAX_CHUNK_BYTES) {
                out.push(Chunk {
                    speaker: chunk.speaker.clone(),
                    third: chunk.third,
                    text,
                });
            }
        }
        Ok(out)
    }

    /// Scores every chunk, [`MAX_BATCH`] per call; documents that failed in a batch are retried
    /// once together, and still failing they fail the invocation with their class.
    async fn score(&self, chunks: &[Chunk], language: &str) -> Result<Vec<Scored>, CallError> {
        let mut scores = vec![None; chunks.len()];
        let mut pending: Vec<usize> = (0..chunks.len()).collect();
        let mut last_failure: Option<ItemFailure> = None;
        for round in 0..2 {
            let mut failed = Vec::new();
            for batch in pending.chunks(MAX_BATCH) {
                let texts: Vec<String> = batch.iter().map(|&i| chunks[i].text.clone()).collect();
                let results = self.scorer.batch(&texts, language).await?;
                for (&i, result) in batch.iter().zip(results) {
                    match result {
                        Ok(s) => scores[i] = Some(s),
                        Err(failure) => {
                            tracing::warn!(chunk = i, round, code = %failure.code, "Comprehend failed a chunk");
                            last_failure = Some(failure);
                            failed.push(i);
                        }
                    }
                }
            }
            pending = failed;
            if pending.is_empty() {
                break;
            }
        }
        if let Some(failure) = last_failure.filter(|_| !pending.is_empty()) {
            return Err(CallError::Scoring {
                failed: pending.len(),
                code: failure.code,
                message: failure.message,
            });
        }
        Ok(chunks
            .iter()
            .zip(scores)
            .filter_map(|(c, s)| {
                s.map(|scores| Scored {
                    speaker: c.speaker.clone(),
                    third: c.third,
                    bytes: c.text.len(),
                    scores,
                })
            })
            .collect())
    }
}
