//! Comprehend scores at most 5,000 UTF-8 bytes per document. The transcript is cut into chunks
//! that each stay within that, at turn boundaries first, then sentence boundaries, then between
//! words, and only for a single "word" longer than the limit at a character boundary — never
//! inside a character. Chunks never mix speakers or thirds of the call, so per-speaker sentiment
//! and the first-to-last-third trend come from the same scores as the overall sentiment.

use crate::transcript::Turn;

/// Comprehend's real-time limit per document, in UTF-8 bytes.
pub const MAX_CHUNK_BYTES: usize = 5000;

/// A piece of the call to score.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub speaker: String,
    /// 0, 1 or 2: which third of the call (by time) its turns sit in.
    pub third: u8,
    pub text: String,
}

/// Packs `pieces` (turn texts) in order into chunks of at most `max` bytes, joined by a space.
pub fn chunk_text<'a>(pieces: impl IntoIterator<Item = &'a str>, max: usize) -> Vec<String> {
    let max = max.max(4); // room for any one character
    let mut out = Vec::new();
    let mut current = String::new();
    for piece in pieces {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        if piece.len() <= max {
            push_unit(&mut out, &mut current, piece, max);
            continue;
        }
        for sentence in sentences(piece) {
            if sentence.len() <= max {
                push_unit(&mut out, &mut current, sentence, max);
                continue;
            }
            for word in sentence.split_whitespace() {
                if word.len() <= max {
                    push_unit(&mut out, &mut current, word, max);
                    continue;
                }
                for part in split_at_chars(word, max) {
                    push_unit(&mut out, &mut current, part, max);
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn push_unit(out: &mut Vec<String>, current: &mut String, unit: &str, max: usize) {
    if !current.is_empty() && current.len() + 1 + unit.len() > max {
        out.push(std::mem::take(current));
    }
    if !current.is_empty() {
        current.push(' ');
    }
    current.push_str(unit);
}

/// Sentences: text up to and including `.`, `!`, `?` (or their full-width forms) followed by
/// whitespace or the end.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let mut begin = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = i + c.len_utf8();
        let terminal = matches!(c, '.' | '!' | '?' | '。' | '！' | '？');
        let boundary = matches!(c, '。' | '！' | '？')
            || chars.peek().is_none_or(|(_, next)| next.is_whitespace());
        if terminal && boundary {
            parts.push(text[begin..end].trim());
            begin = end;
        }
    }
    parts.push(text[begin..].trim());
    parts.into_iter().filter(|s| !s.is_empty())
}

/// Pieces of at most `max` bytes, cut only at character boundaries.
fn split_at_chars(word: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = word;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        parts.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        parts.push(rest);
    }
    parts
}

/// Which third of a call of `duration` seconds a turn belongs to (by its midpoint).
pub fn third_of(turn: &Turn, duration: f64) -> u8 {
    if duration <= 0.0 {
        return 0;
    }
    let middle = (turn.start + turn.end) / 2.0;
    ((middle / duration * 3.0).floor().clamp(0.0, 2.0)) as u8
}

/// The call's chunks: per third of the call, per speaker (in order of first appearance), the
/// speaker's turns packed in order.
pub fn plan(turns: &[Turn], duration: f64, max: usize) -> Vec<Chunk> {
    let mut groups: Vec<((u8, &str), Vec<&str>)> = Vec::new();
    for turn in turns {
        let key = (third_of(turn, duration), turn.speaker.as_str());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, texts)) => texts.push(&turn.text),
            None => groups.push((key, vec![&turn.text])),
        }
    }
    groups.sort_by_key(|((third, _), _)| *third);
    groups
        .into_iter()
        .flat_map(|((third, speaker), texts)| {
            chunk_text(texts, max).into_iter().map(move |text| Chunk {
                speaker: speaker.to_owned(),
                third,
                text,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_then_sentences_then_words_then_characters() {
        assert_eq!(chunk_text(["a b", "c d"], 20), ["a b c d"]);
        assert_eq!(chunk_text(["aaaa bbbb", "cccc"], 10), ["aaaa bbbb", "cccc"]);
        assert_eq!(
            chunk_text(["One two. Three four! Five?"], 12),
            ["One two.", "Three four!", "Five?"]
        );
        assert_eq!(chunk_text(["abcdefghij"], 4), ["abcd", "efgh", "ij"]);
        // 'é' is two bytes: a cut never falls inside it.
        assert_eq!(chunk_text(["éééé"], 5), ["éé", "éé"]);
        assert_eq!(chunk_text(["日本語。中文。"], 13), ["日本語。", "中文。"]);
        assert!(chunk_text(["", "  "], 10).is_empty());
    }

    #[test]
    fn plan_keeps_speakers_and_thirds_apart() {
        let turn = |speaker: &str, start: f64, text: &str| Turn {
            speaker: speaker.into(),
            start,
            end: start + 1.0,
            text: text.into(),
        };
        let turns = [
            turn("spk_0", 0.0, "Hello."),
            turn("spk_1", 1.0, "Hi."),
            turn("spk_0", 2.0, "How can I help?"),
            turn("spk_1", 8.0, "Bye."),
        ];
        let chunks = plan(&turns, 9.0, 100);
        let view: Vec<(u8, &str, &str)> = chunks
            .iter()
            .map(|c| (c.third, c.speaker.as_str(), c.text.as_str()))
            .collect();
        assert_eq!(
            view,
            [
                (0, "spk_0", "Hello. How can I help?"),
                (0, "spk_1", "Hi."),
                (2, "spk_1", "Bye.")
            ]
        );
    }
}
