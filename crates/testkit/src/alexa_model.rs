//! A small stand-in for Alexa's language understanding, built from the skill's interaction
//! model: it resolves an utterance to the intent and slot values the model's samples give it,
//! so a model change that breaks a phrase fails a test. It is stricter than Alexa (a phrase must
//! match a sample word for word, apart from the slots), which is the point: what it resolves,
//! the model really covers.
//!
//! When several samples match, the one with the most literal words wins ("start up web one" is
//! `start up {InstanceName}`, so the slot never captures "up"); a tie between different
//! readings is an error (the model is ambiguous).

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Built-in intents and a few of the phrases Alexa resolves to them (only those the model
/// declares take part).
const BUILT_IN_SAMPLES: &[(&str, &[&str])] = &[
    ("AMAZON.StopIntent", &["stop", "off", "shut up", "stop it"]),
    (
        "AMAZON.CancelIntent",
        &["cancel", "never mind", "forget it"],
    ),
    (
        "AMAZON.HelpIntent",
        &["help", "help me", "what can you do", "what can i say"],
    ),
    ("AMAZON.YesIntent", &["yes", "yeah", "yes please", "sure"]),
    ("AMAZON.NoIntent", &["no", "nope", "no thanks"]),
    ("AMAZON.NavigateHomeIntent", &["go home"]),
];

/// The longest value a custom slot takes, in words.
const MAX_SLOT_WORDS: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Slot(String),
}

#[derive(Debug, Clone)]
struct Sample {
    intent: String,
    tokens: Vec<Token>,
    /// A slot's own sample ("{InstanceName}"), valid only while that slot is elicited.
    elicits: Option<String>,
    /// One of Alexa's phrases for a built-in intent, not the model's.
    built_in: bool,
}

/// What an utterance resolved to: the intent and the slots' values as Alexa would send them
/// (numbers as digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub intent: String,
    pub slots: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct LanguageModel {
    pub invocation_name: String,
    samples: Vec<Sample>,
    /// Slot name per intent → slot type.
    slot_types: BTreeMap<(String, String), String>,
    /// Custom slot types → their values (and synonyms).
    pub type_values: BTreeMap<String, Vec<String>>,
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, ',' | '.' | '?' | '!'))
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn tokens(sample: &str) -> Vec<Token> {
    sample
        .split_whitespace()
        .map(
            |w| match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(slot) => Token::Slot(slot.to_owned()),
                None => Token::Word(words(w).concat()),
            },
        )
        .collect()
}

const DIGIT_WORDS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// AMAZON.NUMBER: numerals, or digits said one by one ("five one four three" → 5143), without
/// leading zeros (as Alexa sends them).
fn number_value(words: &[String]) -> Option<String> {
    let mut digits = String::new();
    for w in words {
        if w.bytes().all(|b| b.is_ascii_digit()) {
            digits.push_str(w);
        } else {
            let d = DIGIT_WORDS.iter().position(|d| d == w)?;
            digits.push_str(&d.to_string());
        }
    }
    let trimmed = digits.trim_start_matches('0');
    Some(if trimmed.is_empty() && !digits.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    })
    .filter(|d| !d.is_empty())
}

impl LanguageModel {
    /// Reads `interactionModel.languageModel` (intents, slot samples, types) from a model file.
    pub fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        Self::from_json(&json)
    }

    pub fn from_json(model: &Value) -> Self {
        let language = &model["interactionModel"]["languageModel"];
        let mut samples = Vec::new();
        let mut slot_types = BTreeMap::new();
        for intent in language["intents"].as_array().into_iter().flatten() {
            let name = intent["name"].as_str().unwrap_or_default().to_owned();
            for sample in intent["samples"].as_array().into_iter().flatten() {
                samples.push(Sample {
                    intent: name.clone(),
                    tokens: tokens(sample.as_str().unwrap_or_default()),
                    elicits: None,
                    built_in: false,
                });
            }
            if let Some((_, built_in)) = BUILT_IN_SAMPLES.iter().find(|(n, _)| *n == name) {
                samples.extend(built_in.iter().map(|s| Sample {
                    intent: name.clone(),
                    tokens: tokens(s),
                    elicits: None,
                    built_in: true,
                }));
            }
            for slot in intent["slots"].as_array().into_iter().flatten() {
                let slot_name = slot["name"].as_str().unwrap_or_default().to_owned();
                let slot_type = slot["type"].as_str().unwrap_or_default().to_owned();
                slot_types.insert((name.clone(), slot_name.clone()), slot_type);
                for sample in slot["samples"].as_array().into_iter().flatten() {
                    samples.push(Sample {
                        intent: name.clone(),
                        tokens: tokens(sample.as_str().unwrap_or_default()),
                        elicits: Some(slot_name.clone()),
                        built_in: false,
                    });
                }
            }
        }
        let type_values = language["types"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                let values = t["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|v| {
                        let name = &v["name"];
                        std::iter::once(&name["value"])
                            .chain(name["synonyms"].as_array().into_iter().flatten())
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                (t["name"].as_str().unwrap_or_default().to_owned(), values)
            })
            .collect();
        Self {
            invocation_name: language["invocationName"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            samples,
            slot_types,
            type_values,
        }
    }

    /// Every (intent, sample) pair of the model's own samples (slot samples included, with the
    /// slot they answer).
    pub fn samples(&self) -> Vec<(String, String, Option<String>)> {
        self.samples
            .iter()
            .filter(|s| !s.built_in)
            .map(|s| {
                let text = s
                    .tokens
                    .iter()
                    .map(|t| match t {
                        Token::Word(w) => w.clone(),
                        Token::Slot(n) => format!("{{{n}}}"),
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                (s.intent.clone(), text, s.elicits.clone())
            })
            .collect()
    }

    /// The slot type of `intent`'s `slot`.
    pub fn slot_type(&self, intent: &str, slot: &str) -> Option<&str> {
        self.slot_types
            .get(&(intent.to_owned(), slot.to_owned()))
            .map(String::as_str)
    }

    /// Every slot type the model's intents use.
    pub fn slot_types(&self) -> Vec<&str> {
        self.slot_types.values().map(String::as_str).collect()
    }

    /// An utterance spoken inside the session (no dialog in progress).
    pub fn resolve(&self, utterance: &str) -> Result<Resolution, String> {
        self.resolve_with(utterance, None)
    }

    /// An utterance answering `Dialog.ElicitSlot` for `slot` of `intent`: the slot's own samples
    /// ("{InstanceName}") take part besides every intent's.
    pub fn resolve_answer(
        &self,
        utterance: &str,
        intent: &str,
        slot: &str,
    ) -> Result<Resolution, String> {
        self.resolve_with(utterance, Some((intent, slot)))
    }

    fn resolve_with(
        &self,
        utterance: &str,
        eliciting: Option<(&str, &str)>,
    ) -> Result<Resolution, String> {
        let said = words(utterance);
        let mut best: Vec<(usize, Resolution)> = Vec::new();
        for sample in &self.samples {
            if let Some(slot) = &sample.elicits {
                if eliciting != Some((sample.intent.as_str(), slot.as_str())) {
                    continue;
                }
            }
            for (literals, slots) in self.matches(&sample.intent, &sample.tokens, &said) {
                let resolution = Resolution {
                    intent: sample.intent.clone(),
                    slots,
                };
                match best.first().map(|(score, _)| *score) {
                    Some(top) if literals < top => {}
                    Some(top) if literals == top => {
                        if !best.iter().any(|(_, r)| *r == resolution) {
                            best.push((literals, resolution));
                        }
                    }
                    _ => best = vec![(literals, resolution)],
                }
            }
        }
        match best.as_slice() {
            [] => Err(format!("{utterance:?} resolves to no intent")),
            [(_, one)] => Ok(one.clone()),
            many => Err(format!(
                "{utterance:?} is ambiguous: {:?}",
                many.iter().map(|(_, r)| r).collect::<Vec<_>>()
            )),
        }
    }

    /// Every way `tokens` matches `said`: the number of literal words and the slot values.
    fn matches(
        &self,
        intent: &str,
        tokens: &[Token],
        said: &[String],
    ) -> Vec<(usize, BTreeMap<String, String>)> {
        match tokens.split_first() {
            None if said.is_empty() => vec![(0, BTreeMap::new())],
            None => Vec::new(),
            Some((Token::Word(w), rest)) => match said.split_first() {
                Some((first, tail)) if first == w => self
                    .matches(intent, rest, tail)
                    .into_iter()
                    .map(|(n, slots)| (n + 1, slots))
                    .collect(),
                _ => Vec::new(),
            },
            Some((Token::Slot(name), rest)) => {
                let slot_type = self.slot_type(intent, name).unwrap_or("");
                let mut out = Vec::new();
                for take in 1..=said.len().min(MAX_SLOT_WORDS) {
                    let value = match slot_type {
                        "AMAZON.NUMBER" => match number_value(&said[..take]) {
                            Some(v) => v,
                            None => continue,
                        },
                        "AMAZON.SearchQuery" => {
                            panic!("{intent}.{name} is AMAZON.SearchQuery: it cannot be answered bare nor take dynamic entities")
                        }
                        _ => said[..take].join(" "),
                    };
                    for (n, mut slots) in self.matches(intent, rest, &said[take..]) {
                        slots.insert(name.clone(), value.clone());
                        out.push((n, slots));
                    }
                }
                out
            }
        }
    }

    /// Fills each slot of `sample` with `values[slot type]`: the utterance and the slots Alexa
    /// would send for it.
    pub fn fill(
        &self,
        intent: &str,
        sample: &str,
        values: &BTreeMap<&str, (&str, &str)>,
    ) -> (String, BTreeMap<String, String>) {
        let mut said = Vec::new();
        let mut slots = BTreeMap::new();
        for token in tokens(sample) {
            match token {
                Token::Word(w) => said.push(w),
                Token::Slot(name) => {
                    let slot_type = self.slot_type(intent, &name).unwrap_or("");
                    let (spoken, sent) = values
                        .get(slot_type)
                        .copied()
                        .unwrap_or_else(|| panic!("no test value for slot type {slot_type}"));
                    said.push(spoken.to_owned());
                    slots.insert(name, sent.to_owned());
                }
            }
        }
        (said.join(" "), slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> LanguageModel {
        LanguageModel::from_json(&json!({"interactionModel": {"languageModel": {
            "invocationName": "test skill",
            "intents": [
                {"name": "StartIntent", "slots": [{"name": "Name", "type": "NAMES", "samples": ["{Name}"]}],
                 "samples": ["start {Name}", "start up {Name}"]},
                {"name": "CodeIntent", "slots": [{"name": "Code", "type": "AMAZON.NUMBER"}],
                 "samples": ["code {Code}"]},
                {"name": "MoreIntent", "samples": ["more"]},
                {"name": "AMAZON.StopIntent", "samples": []}
            ],
            "types": [{"name": "NAMES", "values": [{"name": {"value": "web one"}}]}]
        }}}))
    }

    fn resolved(intent: &str, slots: &[(&str, &str)]) -> Resolution {
        Resolution {
            intent: intent.to_owned(),
            slots: slots
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn the_most_literal_sample_wins_and_slots_take_what_is_left() {
        let m = model();
        assert_eq!(
            m.resolve("start up web one"),
            Ok(resolved("StartIntent", &[("Name", "web one")]))
        );
        assert_eq!(
            m.resolve("Start web one."),
            Ok(resolved("StartIntent", &[("Name", "web one")]))
        );
        assert_eq!(m.resolve("stop"), Ok(resolved("AMAZON.StopIntent", &[])));
        assert!(m.resolve("start").is_err(), "a slot takes at least a word");
        assert!(m.resolve("web one").is_err(), "a bare name needs a dialog");
        assert_eq!(
            m.resolve_answer("web one", "StartIntent", "Name"),
            Ok(resolved("StartIntent", &[("Name", "web one")]))
        );
        assert_eq!(
            m.resolve_answer("more", "StartIntent", "Name"),
            Ok(resolved("MoreIntent", &[])),
            "a literal sample beats a bare slot"
        );
    }

    #[test]
    fn numbers_arrive_as_digits_without_leading_zeros() {
        let m = model();
        assert_eq!(
            m.resolve("code zero one four three"),
            Ok(resolved("CodeIntent", &[("Code", "143")]))
        );
        assert_eq!(
            m.resolve("code 5143"),
            Ok(resolved("CodeIntent", &[("Code", "5143")]))
        );
        assert!(m.resolve("code web").is_err());
    }

    #[test]
    fn ties_between_readings_are_ambiguous() {
        let m = LanguageModel::from_json(&json!({"interactionModel": {"languageModel": {
            "intents": [
                {"name": "A", "samples": ["go"]},
                {"name": "B", "samples": ["go"]}
            ]
        }}}));
        assert!(m.resolve("go").unwrap_err().contains("ambiguous"));
    }
}
