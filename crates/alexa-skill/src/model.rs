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
    /// The recognised speaker (a voice profile), when there is one.
    #[serde(default)]
    pub person: Option<Person>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub person_id: String,
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

    /// The ids the skill's dynamic entities resolved a slot to (`ER_SUCCESS_MATCH` from an
    /// `…dynamic…` authority): the instances Alexa heard, by id.
    pub fn dynamic_ids(&self, name: &str) -> Vec<&str> {
        self.slots
            .get(name)
            .and_then(|s| s.resolutions.as_ref())
            .map(|r| {
                r.resolutions_per_authority
                    .iter()
                    .filter(|a| {
                        a.authority.contains(".dynamic.") && a.status.code == "ER_SUCCESS_MATCH"
                    })
                    .flat_map(|a| a.values.iter().filter_map(|v| v.value.id.as_deref()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Slot {
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub resolutions: Option<Resolutions>,
}

/// Entity resolution: what each authority (the static catalog, the dynamic entities) made of
/// the spoken value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolutions {
    #[serde(default)]
    pub resolutions_per_authority: Vec<Resolution>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Resolution {
    pub authority: String,
    pub status: ResolutionStatus,
    #[serde(default)]
    pub values: Vec<ResolvedValue>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResolutionStatus {
    pub code: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResolvedValue {
    pub value: EntityValue,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EntityValue {
    pub name: String,
    pub id: Option<String>,
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

    /// The recognised speaker's voice profile id (`context.System.person.personId`).
    pub fn person_id(&self) -> Option<&str> {
        self.context
            .as_ref()
            .and_then(|c| c.system.person.as_ref())
            .map(|p| p.person_id.as_str())
            .filter(|id| !id.is_empty())
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub directives: Vec<Directive>,
    pub should_end_session: bool,
}

/// The dialog directives the skill sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum Directive {
    /// Ask for one slot of an intent: Alexa then takes a bare answer ("worker two") as that
    /// slot's value, instead of needing a whole sentence.
    #[serde(rename = "Dialog.ElicitSlot", rename_all = "camelCase")]
    ElicitSlot {
        slot_to_elicit: String,
        updated_intent: UpdatedIntent,
    },
    /// Teach the recogniser this session's values of a slot type (the account's instances).
    #[serde(rename = "Dialog.UpdateDynamicEntities", rename_all = "camelCase")]
    UpdateDynamicEntities {
        update_behavior: &'static str,
        types: Vec<EntityType>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedIntent {
    pub name: String,
    pub confirmation_status: &'static str,
    pub slots: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityType {
    pub name: &'static str,
    pub values: Vec<Entity>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    pub id: String,
    pub name: EntityName,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityName {
    pub value: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

impl Directive {
    /// Elicit `slot` of `intent` afresh (its value cleared).
    pub fn elicit(intent: &str, slot: &str) -> Self {
        let mut slots = Map::new();
        slots.insert(
            slot.to_owned(),
            serde_json::json!({"name": slot, "confirmationStatus": "NONE"}),
        );
        Directive::ElicitSlot {
            slot_to_elicit: slot.to_owned(),
            updated_intent: UpdatedIntent {
                name: intent.to_owned(),
                confirmation_status: "NONE",
                slots,
            },
        }
    }
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
                    title: crate::skill::SKILL_NAME.to_owned(),
                    content: text.to_owned(),
                }),
                reprompt: reprompt.map(|r| Reprompt {
                    output_speech: OutputSpeech {
                        kind: "SSML",
                        ssml: ssml(r),
                    },
                }),
                directives: Vec::new(),
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
                directives: Vec::new(),
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
