//! Transcribe's batch output, as it writes it: `results.transcripts[].transcript`, `results.items`
//! with times and confidences as strings, speakers either on the items (`speaker_label`) or in
//! `results.speaker_labels.segments`, channels either on the items (`channel_label`) or in
//! `results.channel_labels.channels`, and an empty transcript when nobody spoke.

use serde::Deserialize;
use std::collections::HashMap;

/// The transcript could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    #[error("the transcript is not Transcribe's JSON: {0}")]
    Json(String),
    #[error("item {index}: {field} {value:?} is not a number")]
    Number {
        index: usize,
        field: &'static str,
        value: String,
    },
}

/// One word or punctuation mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub content: String,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub confidence: f64,
    pub punctuation: bool,
    /// `spk_0`, `ch_1`, or `None` when the job had neither speaker labels nor channels.
    pub speaker: Option<String>,
}

/// The parts of the output the analyser uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub job_name: String,
    pub text: String,
    pub words: Vec<Word>,
    /// The language Transcribe identified, when it identified one.
    pub language_code: Option<String>,
    pub redacted: bool,
}

impl Transcript {
    /// Seconds from the start to the end of the last spoken word.
    pub fn duration(&self) -> f64 {
        self.words.iter().filter_map(|w| w.end).fold(0.0, f64::max)
    }

    /// Spoken words (not punctuation).
    pub fn word_count(&self) -> usize {
        self.words.iter().filter(|w| !w.punctuation).count()
    }

    pub fn is_empty(&self) -> bool {
        self.word_count() == 0 && self.text.trim().is_empty()
    }
}

#[derive(Deserialize)]
struct Output {
    #[serde(rename = "jobName", default)]
    job_name: String,
    #[serde(rename = "isRedacted", default)]
    is_redacted: bool,
    results: Results,
}

#[derive(Deserialize)]
struct Results {
    #[serde(default)]
    transcripts: Vec<TranscriptText>,
    #[serde(default)]
    items: Vec<Item>,
    speaker_labels: Option<SpeakerLabels>,
    channel_labels: Option<ChannelLabels>,
    language_code: Option<String>,
}

#[derive(Deserialize)]
struct TranscriptText {
    #[serde(default)]
    transcript: String,
}

#[derive(Deserialize)]
struct Item {
    start_time: Option<String>,
    end_time: Option<String>,
    #[serde(default)]
    alternatives: Vec<Alternative>,
    #[serde(rename = "type")]
    kind: String,
    speaker_label: Option<String>,
    channel_label: Option<String>,
}

#[derive(Deserialize)]
struct Alternative {
    confidence: Option<String>,
    content: String,
}

#[derive(Deserialize)]
struct SpeakerLabels {
    #[serde(default)]
    segments: Vec<Segment>,
}

#[derive(Deserialize)]
struct Segment {
    speaker_label: String,
    #[serde(default)]
    items: Vec<SegmentItem>,
}

#[derive(Deserialize)]
struct SegmentItem {
    start_time: String,
}

#[derive(Deserialize)]
struct ChannelLabels {
    #[serde(default)]
    channels: Vec<Channel>,
}

#[derive(Deserialize)]
struct Channel {
    channel_label: String,
    #[serde(default)]
    items: Vec<Item>,
}

fn number(index: usize, field: &'static str, value: &str) -> Result<f64, TranscriptError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| TranscriptError::Number {
            index,
            field,
            value: value.to_owned(),
        })
}

/// Parses Transcribe's output JSON.
pub fn parse(json: &str) -> Result<Transcript, TranscriptError> {
    let output: Output =
        serde_json::from_str(json).map_err(|e| TranscriptError::Json(e.to_string()))?;
    let results = output.results;
    // Speakers by the start time of their words, when the items do not carry them.
    let mut by_start: HashMap<String, String> = HashMap::new();
    if let Some(labels) = &results.speaker_labels {
        for segment in &labels.segments {
            for item in &segment.items {
                by_start.insert(item.start_time.clone(), segment.speaker_label.clone());
            }
        }
    }
    // Channel identification: items may sit only under their channel.
    let mut items = results.items;
    if let Some(channels) = results.channel_labels {
        if items.is_empty() {
            for channel in channels.channels {
                for mut item in channel.items {
                    item.channel_label = Some(channel.channel_label.clone());
                    items.push(item);
                }
            }
            items.sort_by(|a, b| start_of(a).total_cmp(&start_of(b)));
        } else {
            for channel in channels.channels {
                for item in channel.items {
                    if let Some(start) = item.start_time {
                        by_start
                            .entry(start)
                            .or_insert_with(|| channel.channel_label.clone());
                    }
                }
            }
        }
    }
    let mut words: Vec<Word> = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let Some(best) = item.alternatives.into_iter().next() else {
            continue;
        };
        let punctuation = item.kind == "punctuation";
        let start = item
            .start_time
            .as_deref()
            .map(|v| number(index, "start_time", v))
            .transpose()?;
        let end = item
            .end_time
            .as_deref()
            .map(|v| number(index, "end_time", v))
            .transpose()?;
        let confidence = best
            .confidence
            .as_deref()
            .map(|v| number(index, "confidence", v))
            .transpose()?
            .unwrap_or(0.0);
        let speaker = item
            .speaker_label
            .or(item.channel_label)
            .or_else(|| {
                item.start_time
                    .as_ref()
                    .and_then(|s| by_start.get(s).cloned())
            })
            .or_else(|| {
                // Punctuation has no time: it belongs to the word before it.
                punctuation
                    .then(|| words.last().and_then(|w| w.speaker.clone()))
                    .flatten()
            });
        words.push(Word {
            content: best.content,
            start,
            end,
            confidence,
            punctuation,
            speaker,
        });
    }
    let text = results
        .transcripts
        .into_iter()
        .map(|t| t.transcript)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Transcript {
        job_name: output.job_name,
        text,
        words,
        language_code: results.language_code,
        redacted: output.is_redacted,
    })
}

fn start_of(item: &Item) -> f64 {
    item.start_time
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::MAX)
}

/// What one speaker said without interruption.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// `spk_0`, `ch_1`, or `speaker` when the transcript has no labels.
    pub speaker: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// Consecutive words of one speaker, punctuation glued to the word before it.
pub fn turns(transcript: &Transcript) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for word in &transcript.words {
        let speaker = word.speaker.as_deref().unwrap_or("speaker");
        let same = turns.last().is_some_and(|t| t.speaker == speaker);
        match turns.last_mut() {
            Some(turn) if same || word.punctuation => {
                if !word.punctuation {
                    turn.text.push(' ');
                }
                turn.text.push_str(&word.content);
                if let Some(end) = word.end {
                    turn.end = turn.end.max(end);
                }
            }
            _ => {
                let start = word.start.unwrap_or(0.0);
                turns.push(Turn {
                    speaker: speaker.to_owned(),
                    start,
                    end: word.end.unwrap_or(start),
                    text: word.content.clone(),
                })
            }
        }
    }
    if turns.is_empty() && !transcript.text.trim().is_empty() {
        turns.push(Turn {
            speaker: "speaker".to_owned(),
            start: 0.0,
            end: 0.0,
            text: transcript.text.trim().to_owned(),
        });
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_numbers_name_the_item() {
        let json = r#"{"jobName":"j","results":{"transcripts":[{"transcript":"hi"}],
            "items":[{"start_time":"abc","end_time":"1.0","type":"pronunciation",
            "alternatives":[{"confidence":"0.9","content":"hi"}]}]}}"#;
        assert_eq!(
            parse(json).unwrap_err(),
            TranscriptError::Number {
                index: 0,
                field: "start_time",
                value: "abc".into()
            }
        );
        assert!(matches!(parse("{}"), Err(TranscriptError::Json(_))));
    }
}
