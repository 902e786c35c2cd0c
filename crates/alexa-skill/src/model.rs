//! The Alexa Skills Kit request and response envelopes (the parts the skill reads and writes).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Deserialize)]
pub struct RequestEnvelope {
    pub version: String,
    pub session: Option<Session>,
    pub context: Option<Context>,
    pub request: Request,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    #[serde(default)]
    pub new: bool,
    pub session_id: String,
    pub application: Application,
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    pub user: User,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub application_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Context {
    #[serde(rename = "System")]
    pub system: System,
}

#[derive(Debug, Clone, Deserialize)]
pub struct System {
    pub application: Application,
    pub user: User,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type")]
pub enum Request {
    LaunchRequest(RequestCommon),
    IntentRequest {
        #[serde(flatten)]
        common: RequestCommon,
        intent: Intent,
    },
    SessionEndedRequest {
        #[serde(flatten)]
        common: RequestCommon,
        #[serde(default)]
        reason: Option<String>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestCommon {
    pub request_id: String,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Intent {
    pub name: String,
    #[serde(default)]
    pub slots: HashMap<String, Slot>,
}

impl Intent {
    /// A slot's spoken value, trimmed; `None` when absent or empty.
    pub fn slot(&self, name: &str) -> Option<&str> {
        self.slots
            .get(name)
            .and_then(|s| s.value.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "?")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Slot {
    #[serde(default)]
    pub value: Option<String>,
}

impl RequestEnvelope {
    /// The skill the request was meant for (session and context must agree when both exist).
    pub fn application_ids(&self) -> Vec<&str> {
        self.session
            .iter()
            .map(|s| s.application.application_id.as_str())
            .chain(
                self.context
                    .iter()
                    .map(|c| c.system.application.application_id.as_str()),
            )
            .collect()
    }

    pub fn user_id(&self) -> Option<&str> {
        self.context
            .as_ref()
            .map(|c| c.system.user.user_id.as_str())
            .or_else(|| self.session.as_ref().map(|s| s.user.user_id.as_str()))
    }

    pub fn attributes(&self) -> Map<String, Value> {
        self.session
            .as_ref()
            .and_then(|s| s.attributes.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseEnvelope {
    pub version: &'static str,
    /// Always sent, `{}` when empty: a client keeps the previous attributes when the field is
    /// missing, and would then carry out an action the user already declined.
    pub session_attributes: Map<String, Value>,
    pub response: ResponseBody,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_speech: Option<OutputSpeech>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<Card>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reprompt: Option<Reprompt>,
    pub should_end_session: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputSpeech {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub ssml: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reprompt {
    pub output_speech: OutputSpeech,
}

/// `&`, `<`, `>` (and quotes) escaped, wrapped in `<speak>`.
pub fn ssml(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str("<speak>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out.push_str("</speak>");
    out
}

impl ResponseEnvelope {
    /// Speech (as SSML) and a card with the same text.
    pub fn say(
        text: &str,
        reprompt: Option<&str>,
        end_session: bool,
        attributes: Map<String, Value>,
    ) -> Self {
        Self {
            version: "1.0",
            session_attributes: attributes,
            response: ResponseBody {
                output_speech: Some(OutputSpeech {
                    kind: "SSML",
                    ssml: ssml(text),
                }),
                card: Some(Card {
                    kind: "Simple",
                    title: "easy to cloud".to_owned(),
                    content: text.to_owned(),
                }),
                reprompt: reprompt.map(|r| Reprompt {
                    output_speech: OutputSpeech {
                        kind: "SSML",
                        ssml: ssml(r),
                    },
                }),
                should_end_session: end_session,
            },
        }
    }

    /// No speech: the answer to SessionEndedRequest.
    pub fn silent() -> Self {
        Self {
            version: "1.0",
            session_attributes: Map::new(),
            response: ResponseBody {
                output_speech: None,
                card: None,
                reprompt: None,
                should_end_session: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_is_escaped_ssml() {
        assert_eq!(
            ssml("R&D <test> \"x\""),
            "<speak>R&amp;D &lt;test&gt; &quot;x&quot;</speak>"
        );
    }
}
