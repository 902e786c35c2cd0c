//! Codes and their HMACs. A code never leaves this module except in the SMS text.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The HMAC key, read once per container from Secrets Manager or SSM. Never logged.
#[derive(Clone)]
pub struct HmacKey(Hmac<Sha256>);

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

/// Keys shorter than this are refused at init.
pub const MIN_KEY_BYTES: usize = 32;

/// A key that cannot be used: a setting to fix (`InvalidConfig`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

impl fleet_core::Classified for KeyError {
    fn class(&self) -> fleet_core::ErrorClass {
        fleet_core::ErrorClass::InvalidConfig
    }
}

impl HmacKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, KeyError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError(format!(
                "the OTP key has {} bytes; at least {MIN_KEY_BYTES} are needed",
                bytes.len()
            )));
        }
        <Hmac<Sha256> as KeyInit>::new_from_slice(&bytes)
            .map(Self)
            .map_err(|e| KeyError(format!("the OTP key: {e}")))
    }

    fn mac(&self, user: &str, purpose: &str, secret: &str) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        // Length-prefixed parts: ("ab","c") and ("a","bc") never collide.
        for part in [user, purpose, secret] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// The stored form of `secret` for this user and purpose (hex).
    pub fn seal(&self, user: &str, purpose: &str, secret: &str) -> String {
        hex::encode(self.mac(user, purpose, secret).finalize().into_bytes())
    }

    /// Constant-time comparison of `secret` with a stored seal.
    pub fn matches(&self, user: &str, purpose: &str, secret: &str, sealed: &str) -> bool {
        match hex::decode(sealed) {
            Ok(tag) => self.mac(user, purpose, secret).verify_slice(&tag).is_ok(),
            Err(_) => false,
        }
    }
}

/// `+31612345678` → `+31******678`: enough to recognise, not enough to use.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let keep_front = 3;
    let keep_back = 3;
    chars[..keep_front]
        .iter()
        .chain(std::iter::repeat_n(
            &'*',
            chars.len() - keep_front - keep_back,
        ))
        .chain(&chars[chars.len() - keep_back..])
        .collect()
}

/// E.164: `+`, then 8 to 15 digits, the first not 0.
pub fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> HmacKey {
        HmacKey::new(vec![7u8; 32]).unwrap()
    }

    #[test]
    fn seals_bind_user_purpose_and_code() {
        let sealed = key().seal("alice", "start-instance", "123456");
        assert!(key().matches("alice", "start-instance", "123456", &sealed));
        assert!(!key().matches("alice", "start-instance", "123457", &sealed));
        assert!(!key().matches("alice", "stop-instance", "123456", &sealed));
        assert!(!key().matches("bob", "start-instance", "123456", &sealed));
        assert!(!key().matches("alice", "start-instance", "123456", "not hex"));
        assert_ne!(key().seal("ab", "c", "1"), key().seal("a", "bc", "1"));
        assert!(!sealed.contains("123456"));
    }

    #[test]
    fn short_keys_are_refused_and_keys_never_print() {
        assert!(HmacKey::new(vec![1u8; 31]).is_err());
        assert_eq!(format!("{:?}", key()), "HmacKey(..)");
    }

    #[test]
    fn phones_are_masked_and_checked() {
        assert_eq!(mask_phone("+31612345678"), "+31******678");
        assert_eq!(mask_phone("+1555"), "*****");
        assert!(is_e164("+31612345678"));
        assert!(!is_e164("0612345678"));
        assert!(!is_e164("+0612345678"));
        assert!(!is_e164("+31 6 1234"));
    }
}
