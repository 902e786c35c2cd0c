//! moto's control API beyond what `Moto` wraps: state transitions of managed models.

use crate::Moto;
use serde_json::{json, Value};

/// `POST /moto-api/state-manager/set-transition`: how a model's status advances, e.g.
/// `("transcribe::transcriptionjob", json!({"progression": "immediate"}))` makes Transcribe jobs
/// COMPLETED at once, `{"progression": "manual", "times": 1}` (moto's default) one step per
/// `GetTranscriptionJob`.
pub fn set_transition(moto: &Moto, model_name: &str, transition: Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/moto-api/state-manager/set-transition", moto.endpoint());
    let response = agent
        .post(&url)
        .send_json(json!({"model_name": model_name, "transition": transition}))
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    assert!(
        response.status().is_success(),
        "POST {url}: {}",
        response.status()
    );
}
