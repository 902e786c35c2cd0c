//! Languages: the codes Transcribe takes for batch jobs (`fr-FR`), the ones Comprehend scores
//! sentiment in (`fr`), the ones Translate takes, and PII redaction's short list.

/// Transcribe batch language codes (API `LanguageCode`). The adapter test checks each against the
/// SDK's enum so this list cannot name a code Transcribe does not know.
pub const TRANSCRIBE_CODES: &[&str] = &[
    "af-ZA", "ar-AE", "ar-SA", "ca-ES", "cs-CZ", "cy-WL", "da-DK", "de-CH", "de-DE", "el-GR",
    "en-AB", "en-AU", "en-GB", "en-IE", "en-IN", "en-NZ", "en-US", "en-WL", "en-ZA", "es-ES",
    "es-US", "eu-ES", "fa-IR", "fi-FI", "fr-CA", "fr-FR", "gl-ES", "he-IL", "hi-IN", "hr-HR",
    "id-ID", "is-IS", "it-IT", "ja-JP", "ko-KR", "lv-LV", "ms-MY", "nl-NL", "no-NO", "pl-PL",
    "pt-BR", "pt-PT", "ro-RO", "ru-RU", "sk-SK", "so-SO", "sr-RS", "sv-SE", "sw-KE", "ta-IN",
    "te-IN", "th-TH", "tl-PH", "tr-TR", "uk-UA", "vi-VN", "zh-CN", "zh-HK", "zh-TW", "zu-ZA",
];

/// Comprehend `DetectSentiment`/`BatchDetectSentiment` languages.
pub const COMPREHEND_SENTIMENT: &[&str] = &[
    "ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "pt", "zh", "zh-TW",
];

/// Batch redaction is available for US English and US Spanish only, and not together with
/// automatic language identification (Transcribe's documentation, "Redacting PII in your batch
/// job").
pub const REDACTION_CODES: &[&str] = &["en-US", "es-US"];

/// A `Content-Language` value as Transcribe's code (any case: `fr-fr` → `fr-FR`).
pub fn transcribe_code(value: &str) -> Option<&'static str> {
    let value = value.trim();
    TRANSCRIBE_CODES
        .iter()
        .copied()
        .find(|c| c.eq_ignore_ascii_case(value))
}

/// The Comprehend code for sentiment in a Transcribe language, when Comprehend scores it
/// directly (`fr-FR` → `fr`, `zh-TW` → `zh-TW`, `zh-CN` → `zh`).
pub fn comprehend_code(transcribe: &str) -> Option<&'static str> {
    if transcribe.eq_ignore_ascii_case("zh-TW") {
        return Some("zh-TW");
    }
    if transcribe.eq_ignore_ascii_case("zh-HK") {
        // Cantonese: Comprehend's Chinese models are Mandarin; translate instead.
        return None;
    }
    let primary = transcribe.split('-').next()?;
    COMPREHEND_SENTIMENT
        .iter()
        .copied()
        .find(|c| c.eq_ignore_ascii_case(primary))
}

/// The Translate source code for a Transcribe language.
pub fn translate_code(transcribe: &str) -> String {
    match transcribe {
        "zh-TW" | "zh-HK" => "zh-TW".to_owned(),
        "fr-CA" => "fr-CA".to_owned(),
        "pt-PT" => "pt-PT".to_owned(),
        other => other.split('-').next().unwrap_or(other).to_owned(),
    }
}

/// Whether Transcribe can redact PII in this language.
pub fn redaction_available(transcribe: &str) -> bool {
    REDACTION_CODES.contains(&transcribe)
}

/// A base language for translation: one Comprehend scores.
pub fn is_sentiment_language(code: &str) -> bool {
    COMPREHEND_SENTIMENT.contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(transcribe_code("fr-FR"), Some("fr-FR"));
        assert_eq!(transcribe_code(" fr-fr "), Some("fr-FR"));
        assert_eq!(transcribe_code("fr"), None);
        assert_eq!(transcribe_code("xx-YY"), None);
        assert_eq!(comprehend_code("fr-FR"), Some("fr"));
        assert_eq!(comprehend_code("en-GB"), Some("en"));
        assert_eq!(comprehend_code("zh-CN"), Some("zh"));
        assert_eq!(comprehend_code("zh-TW"), Some("zh-TW"));
        assert_eq!(comprehend_code("zh-HK"), None);
        assert_eq!(comprehend_code("nl-NL"), None);
        assert_eq!(comprehend_code("pt-BR"), Some("pt"));
        assert_eq!(translate_code("nl-NL"), "nl");
        assert_eq!(translate_code("fr-CA"), "fr-CA");
        assert!(redaction_available("en-US"));
        assert!(!redaction_available("en-GB"));
        assert!(
            TRANSCRIBE_CODES.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
    }
}
