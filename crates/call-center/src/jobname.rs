//! Deterministic names. A call's id is derived from the object it came from (bucket, key and the
//! version id, or the ETag when the bucket is not versioned), so every delivery of the same S3
//! event names the same call and the same Transcribe job: a duplicate meets `ConflictException`
//! instead of starting a second job. A new upload under the same key is a new call.
//!
//! Transcribe job names must match `^[0-9a-zA-Z._-]+$` and be 1–200 characters.

use sha2::{Digest, Sha256};

/// Characters of the key's readable part kept in the name (the hash makes it unique).
const SLUG_MAX: usize = 60;
/// 24 hex characters: 96 bits of SHA-256.
const HASH_HEX: usize = 24;
pub const PREFIX: &str = "call-";
/// Transcribe's limit.
pub const MAX_JOB_NAME: usize = 200;
/// The longest attempt number a name may carry.
pub const MAX_ATTEMPTS: u32 = 99;

/// `call-<readable part of the file name>-<96-bit hash of bucket, key and version/ETag>`.
pub fn call_id(bucket: &str, key: &str, version_or_etag: &str) -> String {
    let mut hash = Sha256::new();
    for part in [bucket, key, version_or_etag.trim_matches('"')] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hex::encode(hash.finalize());
    let file = key.rsplit('/').next().unwrap_or(key);
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let mut slug = String::new();
    for c in stem.chars() {
        let keep = if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
            c
        } else {
            '-'
        };
        if !(keep == '-' && slug.ends_with('-')) {
            slug.push(keep);
        }
        if slug.len() >= SLUG_MAX {
            break;
        }
    }
    let slug = slug.trim_matches(|c| c == '-' || c == '.');
    if slug.is_empty() {
        format!("{PREFIX}{}", &digest[..HASH_HEX])
    } else {
        format!("{PREFIX}{slug}-{}", &digest[..HASH_HEX])
    }
}

/// The job for `attempt` (1 = the call id itself; later attempts add `-a<n>`).
pub fn job_name(call_id: &str, attempt: u32) -> String {
    if attempt <= 1 {
        call_id.to_owned()
    } else {
        format!("{call_id}-a{}", attempt.min(MAX_ATTEMPTS))
    }
}

/// The call a job belongs to and its attempt, when `job` is one of ours.
pub fn parse_job_name(job: &str) -> Option<(String, u32)> {
    if !job.starts_with(PREFIX) || !is_valid_job_name(job) {
        return None;
    }
    if let Some((call, n)) = job.rsplit_once("-a") {
        if let Ok(attempt) = n.parse::<u32>() {
            if (2..=MAX_ATTEMPTS).contains(&attempt) && !n.starts_with('0') {
                return Some((call.to_owned(), attempt));
            }
        }
    }
    Some((job.to_owned(), 1))
}

/// Transcribe's rule for job names.
pub fn is_valid_job_name(name: &str) -> bool {
    (1..=MAX_JOB_NAME).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_stable_and_parsed_back() {
        let id = call_id(
            "calls-bucket",
            "recordings/2026/Call with Bob+Ann.MP3",
            "\"abc\"",
        );
        assert!(id.starts_with("call-Call-with-Bob-Ann-"), "{id}");
        assert_eq!(
            id,
            call_id(
                "calls-bucket",
                "recordings/2026/Call with Bob+Ann.MP3",
                "abc"
            )
        );
        assert!(is_valid_job_name(&id));
        assert_eq!(parse_job_name(&id), Some((id.clone(), 1)));
        let second = job_name(&id, 2);
        assert_eq!(second, format!("{id}-a2"));
        assert_eq!(parse_job_name(&second), Some((id.clone(), 2)));
        assert_eq!(parse_job_name("someone-elses-job"), None);
        assert_eq!(parse_job_name("call-x/../y"), None);
        let unicode = call_id("b", "recordings/日本.wav", "v1");
        assert_eq!(unicode.len(), PREFIX.len() + HASH_HEX, "{unicode}");
    }
}
