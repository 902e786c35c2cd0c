//! Approval link signatures: a link's signature verifies for its own (id, approver, expiry) and
//! never for a changed field, a field boundary moved, or any other signature text.
#![no_main]

use approval_worker::sign::SigningKey;
use chrono::{DateTime, Duration, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let id = parts.next().unwrap_or_default();
    let approver = parts.next().unwrap_or_default();
    let other_signature = parts.next().unwrap_or_default();
    let seconds = i64::try_from(data.len()).unwrap_or(0) * 86_399;
    let Some(expires) = DateTime::<Utc>::from_timestamp(1_795_000_000 + seconds, 0) else {
        return;
    };
    let Ok(key) = SigningKey::new([7u8; 32]) else {
        return;
    };
    let sig = key.sign(id, approver, expires);
    assert!(key.verify(id, approver, expires, &sig));
    assert!(!key.verify(&format!("{id}0"), approver, expires, &sig));
    assert!(!key.verify(id, &format!("{approver}0"), expires, &sig));
    assert!(!key.verify(id, approver, expires + Duration::seconds(1), &sig));
    if let Some(c) = approver.chars().next() {
        // The approver's first character moved into the id.
        let moved = format!("{id}{c}");
        assert!(!key.verify(&moved, &approver[c.len_utf8()..], expires, &sig));
    }
    if other_signature != sig {
        assert!(!key.verify(id, approver, expires, other_signature));
    }
});
