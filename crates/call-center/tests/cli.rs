//! `fleet calls list` and `fleet calls show` over the in-memory table.

use call_center::call::{Begin, NewCall, Outcome};
use call_center::cli;
use call_center::memory::MemoryCalls;
use call_center::ports::Calls;
use call_center::sentiment::{analyse, Label, Scored, Scores};

fn call(id: &str, at: &str) -> NewCall {
    NewCall {
        call_id: id.into(),
        job_name: id.into(),
        attempt: 1,
        bucket: "calls-bucket".into(),
        key: format!("recordings/{id}.mp3"),
        etag: "e".into(),
        version_id: None,
        language: Some("en-US".into()),
        redacted: true,
        at: at.into(),
    }
}

fn done(negative: f64) -> Outcome {
    let s = Scores {
        positive: 0.1,
        negative,
        neutral: 0.9 - negative,
        mixed: 0.0,
    };
    let scored = [
        Scored {
            speaker: "spk_0".into(),
            third: 0,
            bytes: 10,
            scores: s,
        },
        Scored {
            speaker: "spk_1".into(),
            third: 2,
            bytes: 10,
            scores: s,
        },
    ];
    let sentiment = analyse(&scored).unwrap();
    Outcome::Done(Box::new(call_center::call::Analysis {
        announce_reason: sentiment.negative_reason(0.5),
        sentiment,
        duration_seconds: 61.0,
        word_count: 150,
        language: "en-US".into(),
        scored_language: "en".into(),
        translated_from: None,
        transcript_key: "transcripts/x.json".into(),
        excerpt: "Hello, I am calling about".into(),
        chunks: 2,
    }))
}

#[tokio::test]
async fn list_and_show() {
    let calls = MemoryCalls::default();
    for (id, at) in [
        ("call-a", "2026-11-23T08:00:00Z"),
        ("call-b", "2026-11-23T09:00:00Z"),
        ("call-c", "2026-11-23T10:00:00Z"),
    ] {
        assert_eq!(
            calls.begin(&call(id, at), "2026-11-23", 10).await.unwrap(),
            Begin::Started
        );
    }
    assert!(calls
        .finish("call-a", "call-a", &done(0.8), "2026-11-23T08:30:00Z")
        .await
        .unwrap());
    assert!(calls
        .finish("call-b", "call-b", &done(0.05), "2026-11-23T09:30:00Z")
        .await
        .unwrap());
    calls
        .mark_announced("call-a", "2026-11-23T08:31:00Z")
        .await
        .unwrap();

    let all = cli::list(&calls, None, 10).await.unwrap();
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 4, "{all}");
    assert!(lines[0].starts_with("CREATED"));
    assert!(
        lines[1].contains("TRANSCRIBING") && lines[1].ends_with("call-c"),
        "newest first: {all}"
    );
    assert!(
        lines[3].contains("NEGATIVE")
            && lines[3].contains(" 0.80 ")
            && lines[3].ends_with("call-a"),
        "{all}"
    );

    let negative = cli::list(&calls, Some(cli::parse_sentiment("negative").unwrap()), 10)
        .await
        .unwrap();
    assert_eq!(negative.lines().count(), 2, "{negative}");
    assert!(negative.contains("call-a") && !negative.contains("call-b"));
    assert_eq!(
        cli::list(&calls, Some(Label::Mixed), 10).await.unwrap(),
        "no calls\n"
    );
    assert!(cli::parse_sentiment("angry").is_err());

    let shown = cli::show(&calls, "call-a").await.unwrap();
    for expected in [
        "Recording     s3://calls-bucket/recordings/call-a.mp3",
        "Status        DONE",
        "Sentiment     NEGATIVE  (positive 0.10  negative 0.80",
        "  spk_1       NEGATIVE",
        "Duration      61 s, 150 words",
        "Announced     2026-11-23T08:31:00Z: overall negative score 0.80",
        "PII redacted  yes",
    ] {
        assert!(
            shown.contains(expected),
            "{expected:?} missing in:\n{shown}"
        );
    }
    assert_eq!(
        cli::show(&calls, "call-zzz").await.unwrap_err().to_string(),
        "no call call-zzz"
    );
}
