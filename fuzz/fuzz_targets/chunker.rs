//! The Comprehend chunker: every chunk is non-empty and within the byte limit, and the chunks
//! hold exactly the input's text in order (whitespace aside: chunks are cut and joined at it).
//! The first byte picks the limit (4 to 259 bytes) so small inputs reach every cutting path.
#![no_main]

use call_center::chunk::chunk_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let max = 4 + usize::from(first);
    let chunks = chunk_text(text.split('\n'), max);
    for chunk in &chunks {
        assert!(
            !chunk.is_empty() && chunk.len() <= max,
            "{chunk:?} (max {max})"
        );
    }
    let solid = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert_eq!(solid(&chunks.concat()), solid(text));
});
