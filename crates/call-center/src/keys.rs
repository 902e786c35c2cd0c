//! S3 event keys: URL-encoded the way S3 writes them into notifications (a space is `+`, other
//! bytes are `%XX`). `aws_lambda_events` leaves `url_decoded_key` empty, so we decode here.

/// Why a key from an event cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key has a bad percent escape at byte {0}")]
    BadEscape(usize),
    #[error("the decoded key is not UTF-8")]
    NotUtf8,
    #[error("the key is empty")]
    Empty,
}

/// `+` → space, `%XX` → the byte XX, then the bytes as UTF-8 (S3 keys are UTF-8).
pub fn decode_s3_key(encoded: &str) -> Result<String, KeyError> {
    if encoded.is_empty() {
        return Err(KeyError::Empty);
    }
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(KeyError::BadEscape(i))?;
                let high = hex_value(hex[0]).ok_or(KeyError::BadEscape(i))?;
                let low = hex_value(hex[1]).ok_or(KeyError::BadEscape(i))?;
                out.push(high << 4 | low);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| KeyError::NotUtf8)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The key as S3 puts it into an event: unreserved characters and `/` stay, a space becomes `+`,
/// everything else is `%XX`. Used by tests and the sample events.
pub fn encode_s3_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for (encoded, decoded) in [
            ("recordings/call+1.mp3", "recordings/call 1.mp3"),
            ("recordings/a%2Bb.mp3", "recordings/a+b.mp3"),
            ("recordings/2026/11/23/x.mp3", "recordings/2026/11/23/x.mp3"),
            (
                "recordings/caf%C3%A9+%C3%A0+Paris.mp3",
                "recordings/café à Paris.mp3",
            ),
            ("recordings/%E6%97%A5%E6%9C%AC.wav", "recordings/日本.wav"),
            ("recordings/a%2fb.mp3", "recordings/a/b.mp3"),
            ("recordings/100%25.mp3", "recordings/100%.mp3"),
        ] {
            assert_eq!(decode_s3_key(encoded).as_deref(), Ok(decoded), "{encoded}");
        }
        assert_eq!(decode_s3_key("a%2"), Err(KeyError::BadEscape(1)));
        assert_eq!(decode_s3_key("a%zz"), Err(KeyError::BadEscape(1)));
        assert_eq!(decode_s3_key("%FF%FE"), Err(KeyError::NotUtf8));
        assert_eq!(decode_s3_key(""), Err(KeyError::Empty));
    }
}
