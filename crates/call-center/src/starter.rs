//! The starter: a recording under `recordings/` becomes one Transcribe job, once.
//!
//! Per recording (the normal path is 4 AWS calls: HeadObject, a ranged GetObject, one DynamoDB
//! transaction, StartTranscriptionJob):
//! 1. decode the key; ignore anything outside the recordings prefix (transcripts never start jobs);
//! 2. name the call from bucket, key and version/ETag (see `jobname`);
//! 3. HeadObject (gone or overwritten since the event: nothing to do), size limits, a ranged read
//!    of the first bytes against the format the suffix claims — else REJECTED with the reason;
//! 4. the language from `Content-Language` or the `content-language` user metadata, validated,
//!    else automatic identification over the configured options; PII redaction per policy;
//! 5. TRANSCRIBING + the day's count in one conditional transaction (over the cap: WAITING, started
//!    by the next day's sweep); an existing call is never reset;
//! 6. StartTranscriptionJob with deferred execution; a `ConflictException` means the job exists:
//!    GetTranscriptionJob says whether it runs or is done (nothing to do) or FAILED (start again
//!    as `<call>-a<n>` while attempts remain).

use std::sync::Arc;

use fleet_core::{Clock, EventHandler, HandlerError};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;

use crate::audio::{self, Unfit};
use crate::call::{Begin, CallRecord, NewCall, Status};
use crate::config::{Redaction, StarterConfig};
use crate::error::CallError;
use crate::jobname;
use crate::language;
use crate::ports::{Calls, JobRequest, JobStatus, Objects, Started, Transcription};
use crate::trigger::{self, ObjectCreated, StarterTrigger};

/// What happened to one recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision")]
pub enum Decision {
    Started {
        call_id: String,
        job_name: String,
    },
    /// A duplicate event: the job runs or finished.
    AlreadyRunning {
        call_id: String,
        job_name: String,
        job_status: String,
    },
    AlreadyFinished {
        call_id: String,
        status: String,
    },
    Rejected {
        call_id: String,
        reason: String,
    },
    Waiting {
        call_id: String,
        reason: String,
    },
    /// Not this function's business (outside the prefix, deleted or overwritten since).
    Ignored {
        key: String,
        reason: String,
    },
    /// The job failed and no attempts remain.
    GaveUp {
        call_id: String,
        job_name: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StarterReport {
    pub decisions: Vec<Decision>,
}

pub struct Starter<O, T, C> {
    pub objects: O,
    pub transcription: T,
    pub calls: C,
    pub clock: Arc<dyn Clock>,
    pub config: StarterConfig,
}

impl<O: Objects, T: Transcription, C: Calls> EventHandler for Starter<O, T, C> {
    /// The Lambda entry point.
    type Output = StarterReport;

    async fn handle(&self, event: LambdaEvent<Value>) -> Result<StarterReport, HandlerError> {
        let mut report = StarterReport::default();
        match trigger::starter(event.payload)? {
            StarterTrigger::Test => tracing::info!("s3:TestEvent: nothing to do"),
            StarterTrigger::Objects(objects) => {
                for object in objects {
                    report.decisions.push(self.recording(&object).await?);
                }
            }
            StarterTrigger::Sweep => report.decisions = self.sweep().await?,
        }
        Ok(report)
    }
}

impl<O: Objects, T: Transcription, C: Calls> Starter<O, T, C> {
    /// The daily sweep: calls that waited for the cap, oldest first, while the cap allows.
    pub async fn sweep(&self) -> Result<Vec<Decision>, CallError> {
        let waiting = self
            .calls
            .by_status(Status::Waiting, self.config.daily_cap as usize)
            .await?;
        tracing::info!(waiting = waiting.len(), "daily sweep of waiting calls");
        let mut decisions = Vec::new();
        for call in waiting {
            let object = ObjectCreated {
                bucket: call.bucket.clone(),
                key: call.key.clone(),
                size: None,
                etag: call.etag.clone(),
                version_id: call.version_id.clone(),
            };
            let decision = self.recording(&object).await?;
            let over = matches!(decision, Decision::Waiting { .. });
            decisions.push(decision);
            if over {
                break;
            }
        }
        Ok(decisions)
    }

    fn now(&self) -> (String, String) {
        let now = self.clock.now();
        (
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            now.format("%Y-%m-%d").to_string(),
        )
    }

    /// One recording, start to finish.
    pub async fn recording(&self, object: &ObjectCreated) -> Result<Decision, CallError> {
        let cfg = &self.config;
        if object.bucket != cfg.bucket {
            return Err(CallError::WrongBucket {
                expected: cfg.bucket.clone(),
                got: object.bucket.clone(),
            });
        }
        let key = &object.key;
        if !key.starts_with(&cfg.recordings_prefix) {
            tracing::info!(%key, "outside the recordings prefix: ignored");
            return Ok(Decision::Ignored {
                key: key.clone(),
                reason: format!("not under {}", cfg.recordings_prefix),
            });
        }
        if key.ends_with('/') {
            return Ok(Decision::Ignored {
                key: key.clone(),
                reason: "a folder marker".into(),
            });
        }
        let call_id = jobname::call_id(&object.bucket, key, object.version_or_etag());
        let (at, day) = self.now();
        let mut call = NewCall {
            call_id: call_id.clone(),
            job_name: call_id.clone(),
            attempt: 1,
            bucket: object.bucket.clone(),
            key: key.clone(),
            etag: object.etag.clone(),
            version_id: object.version_id.clone(),
            language: None,
            redacted: false,
            at,
        };
        let Some(format) = audio::AudioFormat::from_key(key) else {
            return self
                .reject(&call, &Unfit::Suffix(key.clone()).to_string())
                .await;
        };
        let Some(head) = self.objects.head(&object.bucket, key).await? else {
            tracing::info!(%call_id, %key, "the object no longer exists: ignored");
            return Ok(Decision::Ignored {
                key: key.clone(),
                reason: "the object no longer exists".into(),
            });
        };
        if object.version_id.is_none() && head.etag != object.etag {
            // Overwritten since this event; the newer object has its own event and call.
            tracing::info!(%call_id, %key, "overwritten since the event: ignored");
            return Ok(Decision::Ignored {
                key: key.clone(),
                reason: "the object was overwritten since this event".into(),
            });
        }
        if let Err(unfit) = audio::check_size(head.size) {
            return self.reject(&call, &unfit.to_string()).await;
        }
        let first = self
            .objects
            .read_prefix(&object.bucket, key, audio::SNIFF_BYTES)
            .await?;
        if let Err(unfit) = audio::check(key, head.size, &first) {
            return self.reject(&call, &unfit.to_string()).await;
        }
        let asked = head
            .content_language
            .clone()
            .or_else(|| head.metadata.get("content-language").cloned());
        call.language = match asked.as_deref() {
            None => None,
            Some(value) => match language::transcribe_code(value) {
                Some(code) => Some(code.to_owned()),
                None => {
                    tracing::warn!(%call_id, value, "Content-Language is not a Transcribe language: identifying instead");
                    None
                }
            },
        };
        let can_redact = call
            .language
            .as_deref()
            .is_some_and(language::redaction_available);
        call.redacted = match cfg.redaction {
            Redaction::Off => false,
            Redaction::WhenAvailable => can_redact,
            Redaction::Required if can_redact => true,
            Redaction::Required => {
                let language = call
                    .language
                    .as_deref()
                    .unwrap_or("not given (identification)");
                let reason = format!(
                    "PII redaction is required but Transcribe redacts only en-US and es-US, without language identification; language {language}"
                );
                return self.reject(&call, &reason).await;
            }
        };
        let request = |call: &NewCall| JobRequest {
            name: call.job_name.clone(),
            media_uri: format!("s3://{}/{}", call.bucket, call.key),
            format,
            language: call.language.clone(),
            language_options: cfg.language_options.clone(),
            output_bucket: call.bucket.clone(),
            output_key: format!("{}{}.json", cfg.transcripts_prefix, call.job_name),
            redact_pii: call.redacted,
            speakers: cfg.speakers,
            data_access_role_arn: cfg.data_access_role_arn.clone(),
        };
        match self.calls.begin(&call, &day, cfg.daily_cap).await? {
            Begin::Started => {}
            Begin::OverCap => return self.wait(&call).await,
            Begin::Exists(existing) => match existing.status {
                Some(Status::Transcribing) => {
                    // A duplicate, or a retry after the job start failed: start (or find) the
                    // job the call records.
                    call.job_name = existing.job_name.clone();
                    call.attempt = existing.attempt;
                }
                Some(Status::Failed) if existing.attempt < cfg.max_attempts => {
                    return self.restart(call, &existing, &day, request).await;
                }
                status => {
                    let status = status.map_or("UNKNOWN", Status::as_str).to_owned();
                    tracing::info!(%call_id, %status, "duplicate event for a finished call");
                    return Ok(Decision::AlreadyFinished { call_id, status });
                }
            },
        }
        loop {
            match self.transcription.start(&request(&call)).await? {
                Started::Started => {
                    tracing::info!(call_id = %call.call_id, job_name = %call.job_name, language = ?call.language, redacted = call.redacted, "transcription started");
                    return Ok(Decision::Started {
                        call_id: call.call_id,
                        job_name: call.job_name,
                    });
                }
                Started::AlreadyExists => {
                    let state = self
                        .transcription
                        .get(&call.job_name)
                        .await?
                        .ok_or_else(|| CallError::JobVanished(call.job_name.clone()))?;
                    if state.status != JobStatus::Failed {
                        tracing::info!(call_id = %call.call_id, job_name = %call.job_name, status = state.status.as_str(), "the job exists: nothing to do");
                        return Ok(Decision::AlreadyRunning {
                            call_id: call.call_id,
                            job_name: call.job_name,
                            job_status: state.status.as_str().to_owned(),
                        });
                    }
                    if call.attempt >= cfg.max_attempts {
                        tracing::warn!(call_id = %call.call_id, job_name = %call.job_name, "the job failed and no attempts remain");
                        return Ok(Decision::GaveUp {
                            call_id: call.call_id,
                            job_name: call.job_name,
                        });
                    }
                    let expected = call.job_name.clone();
                    call.attempt += 1;
                    call.job_name = jobname::job_name(&call.call_id, call.attempt);
                    match self
                        .calls
                        .restart(&call, &expected, &day, cfg.daily_cap)
                        .await?
                    {
                        Begin::Started => continue,
                        Begin::OverCap => return self.wait(&call).await,
                        Begin::Exists(now) => {
                            return Ok(Decision::AlreadyFinished {
                                call_id: call.call_id,
                                status: now.status.map_or("UNKNOWN", Status::as_str).to_owned(),
                            })
                        }
                    }
                }
            }
        }
    }

    async fn restart(
        &self,
        mut call: NewCall,
        existing: &CallRecord,
        day: &str,
        request: impl Fn(&NewCall) -> JobRequest,
    ) -> Result<Decision, CallError> {
        call.attempt = existing.attempt + 1;
        call.job_name = jobname::job_name(&call.call_id, call.attempt);
        match self
            .calls
            .restart(&call, &existing.job_name, day, self.config.daily_cap)
            .await?
        {
            Begin::OverCap => self.wait(&call).await,
            Begin::Exists(now) => Ok(Decision::AlreadyFinished {
                call_id: call.call_id,
                status: now.status.map_or("UNKNOWN", Status::as_str).to_owned(),
            }),
            Begin::Started => match self.transcription.start(&request(&call)).await? {
                Started::Started => {
                    tracing::info!(call_id = %call.call_id, job_name = %call.job_name, attempt = call.attempt, "transcription restarted after a failed job");
                    Ok(Decision::Started {
                        call_id: call.call_id,
                        job_name: call.job_name,
                    })
                }
                Started::AlreadyExists => Ok(Decision::AlreadyRunning {
                    call_id: call.call_id,
                    job_name: call.job_name,
                    job_status: "EXISTS".into(),
                }),
            },
        }
    }

    async fn reject(&self, call: &NewCall, reason: &str) -> Result<Decision, CallError> {
        if self.calls.reject(call, reason).await? {
            tracing::warn!(call_id = %call.call_id, key = %call.key, reason, "recording rejected");
            Ok(Decision::Rejected {
                call_id: call.call_id.clone(),
                reason: reason.to_owned(),
            })
        } else {
            let status = self
                .calls
                .get(&call.call_id)
                .await?
                .and_then(|c| c.status)
                .map_or("UNKNOWN", Status::as_str)
                .to_owned();
            Ok(Decision::AlreadyFinished {
                call_id: call.call_id.clone(),
                status,
            })
        }
    }

    async fn wait(&self, call: &NewCall) -> Result<Decision, CallError> {
        let reason = format!(
            "the daily cap of {} started jobs is reached; the call starts with the next day's sweep",
            self.config.daily_cap
        );
        self.calls.wait(call, &reason).await?;
        tracing::warn!(call_id = %call.call_id, key = %call.key, cap = self.config.daily_cap, "daily cap reached: the call waits");
        Ok(Decision::Waiting {
            call_id: call.call_id.clone(),
            reason,
        })
    }
}
