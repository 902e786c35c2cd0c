//! Transcribe's output JSON, as the analyser reads it from S3, through to the chunks it sends to
//! Comprehend: any text is either refused with a reason or read with finite times and
//! confidences; every word lands in exactly one speaker's turn; and the analyser's plan keeps
//! every word of the turns, in chunks of at most 5,000 bytes, each in a third of the call.
#![no_main]

use call_center::chunk::{plan, MAX_CHUNK_BYTES};
use call_center::transcript::{parse, turns};
use libfuzzer_sys::fuzz_target;

fn solid(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(transcript) = parse(json) else {
        return;
    };
    for word in &transcript.words {
        assert!(word.confidence.is_finite());
        assert!(word.start.is_none_or(f64::is_finite) && word.end.is_none_or(f64::is_finite));
    }
    let duration = transcript.duration();
    assert!(duration.is_finite() && duration >= 0.0);

    let turns = turns(&transcript);
    if transcript.words.is_empty() {
        assert_eq!(turns.is_empty(), transcript.text.trim().is_empty());
    } else {
        let words: String = transcript.words.iter().map(|w| solid(&w.content)).collect();
        let spoken: String = turns.iter().map(|t| solid(&t.text)).collect();
        assert_eq!(spoken, words, "every word in exactly one turn, in order");
    }

    let chunks = plan(&turns, duration, MAX_CHUNK_BYTES);
    for chunk in &chunks {
        assert!(!chunk.text.is_empty() && chunk.text.len() <= MAX_CHUNK_BYTES);
        assert!(chunk.third <= 2);
    }
    let mut in_turns: Vec<char> = turns
        .iter()
        .flat_map(|t| solid(&t.text).chars().collect::<Vec<_>>())
        .collect();
    let mut in_chunks: Vec<char> = chunks
        .iter()
        .flat_map(|c| solid(&c.text).chars().collect::<Vec<_>>())
        .collect();
    in_turns.sort_unstable();
    in_chunks.sort_unstable();
    assert_eq!(
        in_chunks, in_turns,
        "the chunks hold every character of the turns"
    );
});
