//! Sentiment of a whole call from the scores of its chunks: length-weighted overall scores, the
//! same per speaker, and the trend from the first third of the call to the last.

use std::collections::BTreeMap;

/// Comprehend's four scores, each 0–1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores {
    pub positive: f64,
    pub negative: f64,
    pub neutral: f64,
    pub mixed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    Positive,
    Negative,
    Neutral,
    Mixed,
}

impl Label {
    pub const fn as_str(self) -> &'static str {
        match self {
            Label::Positive => "POSITIVE",
            Label::Negative => "NEGATIVE",
            Label::Neutral => "NEUTRAL",
            Label::Mixed => "MIXED",
        }
    }

    pub fn parse(s: &str) -> Option<Label> {
        [
            Label::Positive,
            Label::Negative,
            Label::Neutral,
            Label::Mixed,
        ]
        .into_iter()
        .find(|l| l.as_str().eq_ignore_ascii_case(s))
    }
}

impl Scores {
    /// The label with the highest score (ties: positive, negative, neutral, mixed).
    pub fn label(&self) -> Label {
        let mut best = (Label::Positive, self.positive);
        for (label, score) in [
            (Label::Negative, self.negative),
            (Label::Neutral, self.neutral),
            (Label::Mixed, self.mixed),
        ] {
            if score > best.1 {
                best = (label, score);
            }
        }
        best.0
    }

    /// Positive minus negative: -1 (all negative) to 1 (all positive).
    pub fn balance(&self) -> f64 {
        self.positive - self.negative
    }
}

/// Scores weighted by the byte length of what was scored; `None` for nothing.
pub fn weighted<'a>(parts: impl IntoIterator<Item = (usize, &'a Scores)>) -> Option<Scores> {
    let mut sum = Scores::default();
    let mut total = 0usize;
    for (weight, s) in parts {
        let w = weight as f64;
        sum.positive += s.positive * w;
        sum.negative += s.negative * w;
        sum.neutral += s.neutral * w;
        sum.mixed += s.mixed * w;
        total += weight;
    }
    (total > 0).then(|| {
        let t = total as f64;
        Scores {
            positive: sum.positive / t,
            negative: sum.negative / t,
            neutral: sum.neutral / t,
            mixed: sum.mixed / t,
        }
    })
}

/// A scored chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub speaker: String,
    pub third: u8,
    pub bytes: usize,
    pub scores: Scores,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Improving,
    Steady,
    Worsening,
}

impl Direction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Improving => "IMPROVING",
            Direction::Steady => "STEADY",
            Direction::Worsening => "WORSENING",
        }
    }
}

/// A change of the balance (positive − negative) smaller than this is "steady".
pub const TREND_STEP: f64 = 0.1;

#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    pub first: Scores,
    pub last: Scores,
    pub direction: Direction,
}

/// The call's sentiment.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSentiment {
    pub overall: Scores,
    pub speakers: BTreeMap<String, Scores>,
    /// `None` when the first or the last third has no speech.
    pub trend: Option<Trend>,
}

impl CallSentiment {
    pub fn label(&self) -> Label {
        self.overall.label()
    }

    /// Why the call should be announced to a manager, if it should: its overall negative score
    /// reaches `threshold`, or it ends negative (the last third's sentiment is NEGATIVE).
    pub fn negative_reason(&self, threshold: f64) -> Option<String> {
        if self.overall.negative >= threshold {
            return Some(format!(
                "overall negative score {:.2} reaches the threshold {threshold:.2}",
                self.overall.negative
            ));
        }
        match &self.trend {
            Some(t) if t.last.label() == Label::Negative => Some(format!(
                "the call ends negative (last third negative {:.2})",
                t.last.negative
            )),
            _ => None,
        }
    }
}

/// Overall, per-speaker and trend from the scored chunks; `None` when nothing was scored.
pub fn analyse(scored: &[Scored]) -> Option<CallSentiment> {
    let overall = weighted(scored.iter().map(|s| (s.bytes, &s.scores)))?;
    let mut speakers = BTreeMap::new();
    for speaker in scored.iter().map(|s| s.speaker.as_str()) {
        if speakers.contains_key(speaker) {
            continue;
        }
        let scores = weighted(
            scored
                .iter()
                .filter(|s| s.speaker == speaker)
                .map(|s| (s.bytes, &s.scores)),
        );
        if let Some(scores) = scores {
            speakers.insert(speaker.to_owned(), scores);
        }
    }
    let third = |n: u8| {
        weighted(
            scored
                .iter()
                .filter(|s| s.third == n)
                .map(|s| (s.bytes, &s.scores)),
        )
    };
    let trend = match (third(0), third(2)) {
        (Some(first), Some(last)) => {
            let delta = last.balance() - first.balance();
            let direction = if delta >= TREND_STEP {
                Direction::Improving
            } else if delta <= -TREND_STEP {
                Direction::Worsening
            } else {
                Direction::Steady
            };
            Some(Trend {
                first,
                last,
                direction,
            })
        }
        _ => None,
    };
    Some(CallSentiment {
        overall,
        speakers,
        trend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(p: f64, n: f64) -> Scores {
        Scores {
            positive: p,
            negative: n,
            neutral: 1.0 - p - n,
            mixed: 0.0,
        }
    }

    fn scored(speaker: &str, third: u8, bytes: usize, scores: Scores) -> Scored {
        Scored {
            speaker: speaker.into(),
            third,
            bytes,
            scores,
        }
    }

    #[test]
    fn length_weighted_overall_and_per_speaker() {
        let parts = [
            scored("spk_0", 0, 300, s(0.9, 0.0)),
            scored("spk_1", 1, 100, s(0.1, 0.8)),
            scored("spk_0", 2, 100, s(0.1, 0.8)),
        ];
        let call = analyse(&parts).unwrap();
        assert!((call.overall.positive - (0.9 * 300.0 + 0.1 * 200.0) / 500.0).abs() < 1e-9);
        assert!((call.overall.negative - 160.0 / 500.0).abs() < 1e-9);
        assert_eq!(call.label(), Label::Positive);
        assert_eq!(call.speakers["spk_1"].label(), Label::Negative);
        assert!((call.speakers["spk_0"].positive - 0.7).abs() < 1e-9);
        let trend = call.trend.clone().unwrap();
        assert_eq!(trend.direction, Direction::Worsening);
        assert_eq!(
            call.negative_reason(0.5).as_deref(),
            Some("the call ends negative (last third negative 0.80)")
        );
        assert_eq!(
            call.negative_reason(0.3).as_deref(),
            Some("overall negative score 0.32 reaches the threshold 0.30")
        );
        assert_eq!(analyse(&[]), None);
    }

    #[test]
    fn steady_and_improving() {
        let call = analyse(&[
            scored("a", 0, 10, s(0.2, 0.5)),
            scored("a", 2, 10, s(0.25, 0.5)),
        ])
        .unwrap();
        assert_eq!(call.trend.unwrap().direction, Direction::Steady);
        let call = analyse(&[
            scored("a", 0, 10, s(0.1, 0.7)),
            scored("a", 2, 10, s(0.8, 0.1)),
        ])
        .unwrap();
        assert_eq!(call.trend.as_ref().unwrap().direction, Direction::Improving);
        assert_eq!(call.negative_reason(0.5), None);
        let no_last_third = analyse(&[scored("a", 0, 10, s(0.1, 0.7))]).unwrap();
        assert_eq!(no_last_third.trend, None);
    }
}
