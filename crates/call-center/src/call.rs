//! A call as the calls table holds it, and the outcomes the two functions write.

use crate::sentiment::{CallSentiment, Label};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Transcribing,
    /// Over the day's cap of started jobs; started by the next day's sweep.
    Waiting,
    Rejected,
    Done,
    NoSpeech,
    Failed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Transcribing,
        Status::Waiting,
        Status::Rejected,
        Status::Done,
        Status::NoSpeech,
        Status::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Transcribing => "TRANSCRIBING",
            Status::Waiting => "WAITING",
            Status::Rejected => "REJECTED",
            Status::Done => "DONE",
            Status::NoSpeech => "NO_SPEECH",
            Status::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Nothing will change this call any more (a FAILED call may still be restarted by the
    /// starter while attempts remain).
    pub const fn is_final(self) -> bool {
        matches!(self, Status::Rejected | Status::Done | Status::NoSpeech)
    }
}

/// What the starter writes for a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    pub call_id: String,
    pub job_name: String,
    pub attempt: u32,
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub version_id: Option<String>,
    /// The Transcribe code asked for by the object's metadata; `None`: identified.
    pub language: Option<String>,
    pub redacted: bool,
    /// RFC 3339.
    pub at: String,
}

/// What `Calls::begin` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// Recorded as TRANSCRIBING and counted: start the job.
    Started,
    /// The day's cap is reached: nothing was written.
    OverCap,
    /// The call exists; nothing was written.
    Exists(Box<CallRecord>),
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallRecord {
    pub call_id: String,
    pub status: Option<Status>,
    pub job_name: String,
    pub attempt: u32,
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub version_id: Option<String>,
    pub language: Option<String>,
    pub reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub sentiment: Option<Label>,
    pub negative: Option<f64>,
    pub announce_reason: Option<String>,
    /// When the EventBridge event went out: a retry after a failed manager notice does not send
    /// it again.
    pub event_sent_at: Option<String>,
    pub announced_at: Option<String>,
    /// Everything else stored with a finished call, as JSON for `fleet calls show`.
    pub details: serde_json::Value,
}

/// The analysis of a transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub sentiment: CallSentiment,
    pub duration_seconds: f64,
    pub word_count: usize,
    /// Transcribe's code for the call's language.
    pub language: String,
    /// The language the scores were computed in (Comprehend's code).
    pub scored_language: String,
    /// Set when the text was translated before scoring.
    pub translated_from: Option<String>,
    pub transcript_key: String,
    pub excerpt: String,
    pub chunks: usize,
    /// Why the call is announced as negative, if it is.
    pub announce_reason: Option<String>,
}

/// How a transcription ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done(Box<Analysis>),
    NoSpeech {
        transcript_key: String,
        duration_seconds: f64,
    },
    Failed {
        reason: String,
    },
}

impl Outcome {
    pub fn status(&self) -> Status {
        match self {
            Outcome::Done(_) => Status::Done,
            Outcome::NoSpeech { .. } => Status::NoSpeech,
            Outcome::Failed { .. } => Status::Failed,
        }
    }
}

/// At most this many characters of the transcript are kept in the item (the item stays far
/// below DynamoDB's 400 KB; the whole transcript stays in S3).
pub const EXCERPT_CHARS: usize = 300;

/// The first [`EXCERPT_CHARS`] characters, cut at a word boundary when there is one.
pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > EXCERPT_CHARS / 2 => cut[..i].to_owned(),
        _ => cut,
    };
    format!("{cut}…")
}

fn scores_json(s: &crate::sentiment::Scores) -> serde_json::Value {
    let r = |v: f64| (v * 10_000.0).round() / 10_000.0;
    serde_json::json!({
        "Positive": r(s.positive),
        "Negative": r(s.negative),
        "Neutral": r(s.neutral),
        "Mixed": r(s.mixed),
    })
}

/// The attributes a finished call stores besides its status, by name. Both table adapters store
/// exactly these (the DynamoDB one as native maps and numbers).
pub fn outcome_fields(outcome: &Outcome) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::{json, Value};
    let mut m = serde_json::Map::new();
    match outcome {
        Outcome::Failed { reason } => {
            m.insert("Reason".into(), json!(reason));
        }
        Outcome::NoSpeech {
            transcript_key,
            duration_seconds,
        } => {
            m.insert("TranscriptKey".into(), json!(transcript_key));
            m.insert("DurationSeconds".into(), json!(duration_seconds));
            m.insert("WordCount".into(), json!(0));
        }
        Outcome::Done(a) => {
            let s = &a.sentiment;
            m.insert("Sentiment".into(), json!(s.label().as_str()));
            m.insert("Scores".into(), scores_json(&s.overall));
            let speakers: serde_json::Map<String, Value> = s
                .speakers
                .iter()
                .map(|(name, sc)| {
                    let mut v = scores_json(sc);
                    v["Sentiment"] = json!(sc.label().as_str());
                    (name.clone(), v)
                })
                .collect();
            m.insert("Speakers".into(), Value::Object(speakers));
            if let Some(t) = &s.trend {
                m.insert(
                    "Trend".into(),
                    json!({
                        "FirstThird": scores_json(&t.first),
                        "LastThird": scores_json(&t.last),
                        "Direction": t.direction.as_str(),
                    }),
                );
            }
            m.insert(
                "DurationSeconds".into(),
                json!((a.duration_seconds * 100.0).round() / 100.0),
            );
            m.insert("WordCount".into(), json!(a.word_count));
            m.insert("Language".into(), json!(a.language));
            m.insert("ScoredLanguage".into(), json!(a.scored_language));
            if let Some(from) = &a.translated_from {
                m.insert("TranslatedFrom".into(), json!(from));
            }
            m.insert("TranscriptKey".into(), json!(a.transcript_key));
            m.insert("Excerpt".into(), json!(a.excerpt));
            m.insert("Chunks".into(), json!(a.chunks));
            if let Some(reason) = &a.announce_reason {
                m.insert("AnnounceReason".into(), json!(reason));
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_excerpts_are_short() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(excerpt("  hello  "), "hello");
        let long = "word ".repeat(200);
        let e = excerpt(&long);
        assert!(
            e.chars().count() <= EXCERPT_CHARS + 1 && e.ends_with("word…"),
            "{e}"
        );
        let cjk = "語".repeat(400);
        assert_eq!(excerpt(&cjk).chars().count(), EXCERPT_CHARS + 1);
    }
}
