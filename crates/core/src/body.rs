//! Request bodies that must be a small JSON object with known fields, refused with a message that
//! says what is wrong (the HTTP functions answer 400 with it).

use serde_json::{Map, Value};

/// The body's fields, or why it is refused: over `max_bytes`, not JSON, not an object, or a field
/// outside `allowed`. With an `example` (such as `{"action":"forward"}`), an empty body and a
/// non-object are answered with it.
pub fn json_object(
    body: &[u8],
    max_bytes: usize,
    allowed: &[&str],
    example: Option<&str>,
) -> Result<Map<String, Value>, String> {
    if body.len() > max_bytes {
        return Err(format!(
            "the body is {} bytes; the limit is {max_bytes}",
            body.len()
        ));
    }
    if let Some(example) = example {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(format!("the body is empty: send JSON such as {example}"));
        }
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    let Value::Object(fields) = value else {
        return Err(match example {
            Some(example) => format!("the body must be a JSON object such as {example}"),
            None => "the body must be a JSON object".to_owned(),
        });
    };
    if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "unknown field {unknown:?}: the allowed fields are {}",
            allowed.join(", ")
        ));
    }
    Ok(fields)
}
