//! Signed links: `{base}/approvals/{id}?sig=…`, the signature an HMAC-SHA256 over (id, approver,
//! expiry) with a key from Secrets Manager. The task token never travels in a link.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Keys shorter than this are refused at init.
pub const MIN_KEY_BYTES: usize = 32;

/// Mail clients and gateways cut links longer than about 2,048 characters; ours stay far below.
pub const MAX_LINK_CHARS: usize = 2048;

/// The signing key. Never logged.
#[derive(Clone)]
pub struct SigningKey(Hmac<Sha256>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, String> {
        let bytes = bytes.as_ref();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the signing key has {} bytes; at least {MIN_KEY_BYTES} are needed",
                bytes.len()
            ));
        }
        <Hmac<Sha256> as KeyInit>::new_from_slice(bytes)
            .map(Self)
            .map_err(|e| format!("the signing key: {e}"))
    }

    fn mac(&self, id: &str, approver: &str, expires_at: DateTime<Utc>) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        let expiry = expires_at.timestamp().to_string();
        // Length-prefixed parts, so ("ab","c") and ("a","bc") never sign alike.
        for part in ["approval-link-v1", id, approver, &expiry] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// 64 hex characters.
    pub fn sign(&self, id: &str, approver: &str, expires_at: DateTime<Utc>) -> String {
        hex::encode(self.mac(id, approver, expires_at).finalize().into_bytes())
    }

    /// Constant-time check of a link's signature against the stored (id, approver, expiry).
    /// Only the form [`sign`](Self::sign) writes is accepted (lower-case hex), so one request has
    /// exactly one valid link (found by fuzzing: upper-case variants used to verify too).
    pub fn verify(&self, id: &str, approver: &str, expires_at: DateTime<Utc>, sig: &str) -> bool {
        if sig.bytes().any(|b| b.is_ascii_uppercase()) {
            return false;
        }
        match hex::decode(sig) {
            Ok(tag) => self
                .mac(id, approver, expires_at)
                .verify_slice(&tag)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// The link an approver gets. `base` is the API's URL (a trailing `/` is fine); `id` is hex and
/// `sig` hex, so nothing needs escaping.
pub fn link(base: &str, id: &str, sig: &str) -> String {
    format!("{}/approvals/{id}?sig={sig}", base.trim_end_matches('/'))
}
