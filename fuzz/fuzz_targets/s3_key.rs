//! S3 event keys: any key survives S3's encoding and our decoding unchanged, and any key decoded
//! from an event encodes to a value that decodes to it again.
#![no_main]

use call_center::keys::{decode_s3_key, encode_s3_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if !text.is_empty() {
        assert_eq!(decode_s3_key(&encode_s3_key(text)).as_deref(), Ok(text));
    }
    if let Ok(key) = decode_s3_key(text) {
        assert_eq!(decode_s3_key(&encode_s3_key(&key)), Ok(key));
    }
});
