//! Email sent through SES (v1 or v2) as the local stand-in keeps it: moto stores one body per
//! message (the HTML part when there is one, else the text part) under `ses` → `Message` in
//! `/moto-api/data.json`.

use serde_json::Value;

use crate::Moto;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesMessage {
    pub source: String,
    pub subject: String,
    /// The HTML part if the message had one, otherwise the text part.
    pub body: String,
    /// Every `ToAddresses` entry.
    pub to: Vec<String>,
}

/// Every email moto accepted, oldest first.
pub fn ses_messages(moto: &Moto) -> Vec<SesMessage> {
    let data = moto.data();
    let text = |m: &Value, name: &str| {
        m.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    data.pointer("/ses/Message")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| SesMessage {
            source: text(m, "source"),
            subject: text(m, "subject"),
            body: text(m, "body"),
            to: m
                .pointer("/destinations/ToAddresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        })
        .collect()
}
