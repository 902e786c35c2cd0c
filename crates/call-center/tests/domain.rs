//! The pure rules: key decoding, job names, audio sniffing on the real fixtures, the Transcribe
//! output parser on real-shaped fixtures, the chunker (property tests) and turns.

use call_center::audio::{self, AudioFormat, Unfit};
use call_center::chunk::{chunk_text, plan, MAX_CHUNK_BYTES};
use call_center::jobname::{call_id, is_valid_job_name, job_name, parse_job_name, MAX_JOB_NAME};
use call_center::keys::{decode_s3_key, encode_s3_key};
use call_center::transcript::{self, Turn};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn transcript_fixture(name: &str) -> transcript::Transcript {
    let text = String::from_utf8(fixture(&format!("transcripts/{name}"))).unwrap();
    transcript::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

proptest! {
    #[test]
    fn any_key_survives_s3_encoding(key in "\\PC{1,80}") {
        prop_assert_eq!(decode_s3_key(&encode_s3_key(&key)), Ok(key));
    }

    #[test]
    fn job_names_are_valid_stable_and_distinct(
        bucket in "[a-z0-9.-]{3,63}",
        key in "\\PC{1,300}",
        version in "[0-9a-f\"]{0,34}",
        other_key in "\\PC{1,300}",
        attempt in 1u32..=99,
    ) {
        let id = call_id(&bucket, &key, &version);
        prop_assert!(is_valid_job_name(&id), "{id}");
        prop_assert!(id.len() <= MAX_JOB_NAME);
        prop_assert_eq!(&id, &call_id(&bucket, &key, &version));
        let job = job_name(&id, attempt);
        prop_assert!(is_valid_job_name(&job) && job.len() <= MAX_JOB_NAME, "{job}");
        prop_assert_eq!(parse_job_name(&job), Some((id.clone(), attempt)));
        if other_key != key {
            prop_assert_ne!(&id, &call_id(&bucket, &other_key, &version));
        }
        prop_assert_ne!(&id, &call_id(&bucket, &key, &format!("{version}x")));
        prop_assert_ne!(&id, &call_id(&format!("{bucket}x"), &key, &version));
    }

    #[test]
    fn chunks_fit_and_lose_or_reorder_nothing(
        pieces in prop::collection::vec("\\PC{0,400}", 0..30),
        max in 4usize..300,
    ) {
        let chunks = chunk_text(pieces.iter().map(String::as_str), max);
        for c in &chunks {
            prop_assert!(c.len() <= max, "{} bytes > {max}", c.len());
            prop_assert!(!c.trim().is_empty());
        }
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        prop_assert_eq!(squash(&chunks.concat()), squash(&pieces.concat()));
    }

    #[test]
    fn plans_keep_each_speakers_words_in_order(
        turns in prop::collection::vec((0u8..3, "[a-z ]{1,60}"), 1..60),
    ) {
        let turns: Vec<Turn> = turns
            .into_iter()
            .enumerate()
            .map(|(i, (s, text))| Turn { speaker: format!("spk_{s}"), start: i as f64, end: i as f64 + 0.5, text })
            .collect();
        let duration = turns.len() as f64;
        let chunks = plan(&turns, duration, 50);
        for speaker in ["spk_0", "spk_1", "spk_2"] {
            let got: Vec<&str> = chunks.iter().filter(|c| c.speaker == speaker).flat_map(|c| c.text.split_whitespace()).collect();
            let want: Vec<&str> = turns.iter().filter(|t| t.speaker == speaker).flat_map(|t| t.text.split_whitespace()).collect();
            prop_assert_eq!(got, want);
        }
        prop_assert!(chunks.windows(2).all(|w| w[0].third <= w[1].third));
        prop_assert!(chunks.iter().all(|c| c.text.len() <= 50));
    }
}

proptest! {
    // Long inputs: fewer cases keep the suite fast.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn comprehend_sized_chunks_of_long_turns(
        words in prop::collection::vec("[a-zA-Zéü語]{1,12}[.!?]?", 1..4000),
        turn_len in 1usize..2000,
    ) {
        let turns: Vec<String> = words.chunks(turn_len).map(|w| w.join(" ")).collect();
        let chunks = chunk_text(turns.iter().map(String::as_str), MAX_CHUNK_BYTES);
        prop_assert!(chunks.iter().all(|c| c.len() <= MAX_CHUNK_BYTES));
        let got: Vec<&str> = chunks.iter().flat_map(|c| c.split_whitespace()).collect();
        let want: Vec<&str> = turns.iter().flat_map(|t| t.split_whitespace()).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn real_audio_fixtures_are_recognised_and_impostors_rejected() {
    let en = fixture("call-en.mp3");
    assert_eq!(
        audio::check("recordings/call-en.mp3", en.len() as u64, &en[..4096]),
        Ok(AudioFormat::Mp3)
    );
    let fr = fixture("call-fr.mp3");
    assert!(fr.starts_with(&[0xFF]), "no ID3 tag: the frame sync path");
    assert_eq!(
        audio::check("recordings/x.MP3", fr.len() as u64, &fr[..4096]),
        Ok(AudioFormat::Mp3)
    );
    let wav = fixture("call-en.wav");
    assert_eq!(
        audio::check("recordings/call.wav", wav.len() as u64, &wav[..4096]),
        Ok(AudioFormat::Wav)
    );
    assert_eq!(
        audio::check("recordings/call.mp3", wav.len() as u64, &wav[..4096])
            .unwrap_err()
            .to_string(),
        "the name says mp3 but the content looks like wav"
    );
    let text = fixture("not-audio.mp3");
    assert_eq!(
        audio::check("recordings/not-audio.mp3", text.len() as u64, &text),
        Err(Unfit::Content {
            claimed: AudioFormat::Mp3,
            looks_like: "text"
        })
    );
    assert!(fixture("empty.mp3").is_empty());
    assert_eq!(
        audio::check("recordings/empty.mp3", 0, &[]),
        Err(Unfit::Empty)
    );
}

#[test]
fn diarised_transcript_becomes_two_speakers_turns() {
    let t = transcript_fixture("diarised-two-speakers.json");
    assert_eq!(t.job_name, "JOB_NAME");
    assert!(t.word_count() > 60, "{}", t.word_count());
    let turns = transcript::turns(&t);
    let speakers: Vec<&str> = turns.iter().map(|t| t.speaker.as_str()).collect();
    assert_eq!(
        speakers,
        ["spk_0", "spk_1", "spk_0", "spk_1", "spk_0", "spk_1"]
    );
    assert_eq!(
        turns[0].text,
        "Thank you for calling Example Telecom, this is Dana. How can I help you today?"
    );
    assert!(turns[1].start > turns[0].end);
    assert!((t.duration() - turns[5].end).abs() < 1e-9);
    let chunks = plan(&turns, t.duration(), MAX_CHUNK_BYTES);
    assert!(chunks.iter().any(|c| c.third == 0) && chunks.iter().any(|c| c.third == 2));
}

#[test]
fn channel_identified_transcript_takes_speakers_from_channels() {
    let t = transcript_fixture("channels-two.json");
    let turns = transcript::turns(&t);
    let view: Vec<(&str, &str)> = turns
        .iter()
        .map(|t| (t.speaker.as_str(), t.text.as_str()))
        .collect();
    assert_eq!(
        view[0],
        ("ch_0", "Good morning, you are through to support.")
    );
    assert_eq!(view[1].0, "ch_1");
    assert_eq!(view.len(), 4);
}

#[test]
fn older_outputs_with_speakers_only_in_segments_and_items_only_in_channels() {
    let segments_only = r#"{"jobName":"j","results":{"transcripts":[{"transcript":"Hi. Hello."}],
      "speaker_labels":{"speakers":2,"segments":[
        {"start_time":"0.1","end_time":"0.5","speaker_label":"spk_0","items":[{"start_time":"0.1","end_time":"0.5","speaker_label":"spk_0"}]},
        {"start_time":"1.0","end_time":"1.5","speaker_label":"spk_1","items":[{"start_time":"1.0","end_time":"1.5","speaker_label":"spk_1"}]}]},
      "items":[
        {"start_time":"0.1","end_time":"0.5","alternatives":[{"confidence":"0.99","content":"Hi"}],"type":"pronunciation"},
        {"alternatives":[{"confidence":"0.0","content":"."}],"type":"punctuation"},
        {"start_time":"1.0","end_time":"1.5","alternatives":[{"confidence":"0.98","content":"Hello"}],"type":"pronunciation"},
        {"alternatives":[{"confidence":"0.0","content":"."}],"type":"punctuation"}]}}"#;
    let t = transcript::parse(segments_only).unwrap();
    let turns = transcript::turns(&t);
    assert_eq!(
        turns
            .iter()
            .map(|t| (t.speaker.as_str(), t.text.as_str()))
            .collect::<Vec<_>>(),
        [("spk_0", "Hi."), ("spk_1", "Hello.")]
    );
    assert!((t.words[0].confidence - 0.99).abs() < 1e-9);
    let channels_only = r#"{"jobName":"j","results":{"transcripts":[{"transcript":"Yes no"}],
      "channel_labels":{"number_of_channels":2,"channels":[
        {"channel_label":"ch_1","items":[{"start_time":"2.0","end_time":"2.4","alternatives":[{"confidence":"0.9","content":"no"}],"type":"pronunciation"}]},
        {"channel_label":"ch_0","items":[{"start_time":"1.0","end_time":"1.4","alternatives":[{"confidence":"0.9","content":"Yes"}],"type":"pronunciation"}]}]},
      "items":[]}}"#;
    let t = transcript::parse(channels_only).unwrap();
    let turns = transcript::turns(&t);
    assert_eq!(
        turns
            .iter()
            .map(|t| (t.speaker.as_str(), t.text.as_str()))
            .collect::<Vec<_>>(),
        [("ch_0", "Yes"), ("ch_1", "no")]
    );
}

#[test]
fn empty_transcript_is_no_speech() {
    let t = transcript_fixture("empty.json");
    assert!(t.is_empty());
    assert!(transcript::turns(&t).is_empty());
    assert_eq!(t.duration(), 0.0);
}
