//! The adapters against aws-smithy-mocks: the requests they build, how they read answers, batch
//! limits, partial batch failures and throttling. Comprehend's BatchDetectSentiment and Translate
//! are tested only here (the local stand-in lacks them).

use aws_sdk_comprehend::operation::batch_detect_sentiment::{
    BatchDetectSentimentError, BatchDetectSentimentOutput,
};
use aws_sdk_comprehend::types::{
    BatchDetectSentimentItemResult, BatchItemError, SentimentScore, SentimentType,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use call_center::audio::AudioFormat;
use call_center::aws::*;
use call_center::ports::*;
use fleet_core::ErrorClass;

fn throttling<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    make: fn(aws_smithy_types::error::ErrorMetadata) -> E,
) -> E {
    make(
        aws_smithy_types::error::ErrorMetadata::builder()
            .code("ThrottlingException")
            .message("Rate exceeded")
            .build(),
    )
}

fn meta(code: &str, message: &str) -> aws_smithy_types::error::ErrorMetadata {
    aws_smithy_types::error::ErrorMetadata::builder()
        .code(code)
        .message(message)
        .build()
}

fn score(i: i32, p: f32, n: f32) -> BatchDetectSentimentItemResult {
    BatchDetectSentimentItemResult::builder()
        .index(i)
        .sentiment(SentimentType::Positive)
        .sentiment_score(
            SentimentScore::builder()
                .positive(p)
                .negative(n)
                .neutral(1.0 - p - n)
                .mixed(0.0)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn comprehend_batches_read_results_by_index_with_partial_errors() {
    let rule = mock!(aws_sdk_comprehend::Client::batch_detect_sentiment)
        .match_requests(|r| {
            r.text_list().len() == 3 && r.language_code().map(|l| l.as_str()) == Some("fr")
        })
        .then_output(|| {
            BatchDetectSentimentOutput::builder()
                .result_list(score(2, 0.1, 0.8))
                .result_list(score(0, 0.9, 0.0))
                .error_list(
                    BatchItemError::builder()
                        .index(1)
                        .error_code("INTERNAL_SERVER_ERROR")
                        .error_message("try again")
                        .build(),
                )
                .build()
                .unwrap()
        });
    let client = mock_client!(aws_sdk_comprehend, [&rule]);
    let scorer = ComprehendScorer { client };
    let texts: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    let out = scorer.batch(&texts, "fr").await.unwrap();
    assert!((out[0].as_ref().unwrap().positive - 0.9).abs() < 1e-6);
    assert_eq!(out[1].as_ref().unwrap_err().code, "INTERNAL_SERVER_ERROR");
    assert!((out[2].as_ref().unwrap().negative - 0.8).abs() < 1e-6);
    assert_eq!(rule.num_calls(), 1);
    // More than 25 documents never reach Comprehend.
    let too_many: Vec<String> = (0..26).map(|i| i.to_string()).collect();
    let err = scorer.batch(&too_many, "fr").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Internal);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn comprehend_throttling_is_throttled_and_a_missing_answer_is_a_failure() {
    let throttled = mock!(aws_sdk_comprehend::Client::batch_detect_sentiment)
        .then_error(|| throttling(BatchDetectSentimentError::generic));
    let client = mock_client!(aws_sdk_comprehend, RuleMode::MatchAny, [&throttled], |c| c
        .retry_config(aws_sdk_comprehend::config::retry::RetryConfig::disabled()));
    let err = ComprehendScorer { client }
        .batch(&["a".to_owned()], "en")
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Throttled);
    let silent = mock!(aws_sdk_comprehend::Client::batch_detect_sentiment).then_output(|| {
        BatchDetectSentimentOutput::builder()
            .set_result_list(Some(vec![]))
            .set_error_list(Some(vec![]))
            .build()
            .unwrap()
    });
    let client = mock_client!(aws_sdk_comprehend, [&silent]);
    let out = ComprehendScorer { client }
        .batch(&["a".to_owned()], "en")
        .await
        .unwrap();
    assert_eq!(out[0].as_ref().unwrap_err().code, "MISSING");
}

#[tokio::test]
async fn translate_sends_one_request_within_its_limit() {
    use aws_sdk_translate::operation::translate_text::{TranslateTextError, TranslateTextOutput};
    let rule = mock!(aws_sdk_translate::Client::translate_text)
        .match_requests(|r| {
            r.text() == Some("hallo")
                && r.source_language_code() == Some("nl")
                && r.target_language_code() == Some("en")
        })
        .then_output(|| {
            TranslateTextOutput::builder()
                .translated_text("hello")
                .source_language_code("nl")
                .target_language_code("en")
                .build()
                .unwrap()
        });
    let client = mock_client!(aws_sdk_translate, [&rule]);
    let t = TranslateText { client };
    assert_eq!(t.translate("hallo", "nl", "en").await.unwrap(), "hello");
    let err = t
        .translate(&"x".repeat(MAX_TRANSLATE_BYTES + 1), "nl", "en")
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Internal);
    assert_eq!(rule.num_calls(), 1);
    let throttled = mock!(aws_sdk_translate::Client::translate_text)
        .then_error(|| throttling(TranslateTextError::generic));
    let client = mock_client!(aws_sdk_translate, RuleMode::MatchAny, [&throttled], |c| c
        .retry_config(aws_sdk_translate::config::retry::RetryConfig::disabled()));
    assert_eq!(
        TranslateText { client }
            .translate("hallo", "nl", "en")
            .await
            .unwrap_err()
            .class,
        ErrorClass::Throttled
    );
}

fn job(language: Option<&str>, redact: bool, speakers: Speakers) -> JobRequest {
    JobRequest {
        name: "call-x-0123".into(),
        media_uri: "s3://b/recordings/x.mp3".into(),
        format: AudioFormat::Mp3,
        language: language.map(str::to_owned),
        language_options: vec!["en-US".into(), "fr-FR".into()],
        output_bucket: "b".into(),
        output_key: "transcripts/call-x-0123.json".into(),
        redact_pii: redact,
        speakers,
        data_access_role_arn: "arn:aws:iam::123456789012:role/t".into(),
    }
}

#[tokio::test]
async fn transcribe_jobs_are_deferred_redacted_and_diarised_and_a_conflict_is_a_duplicate() {
    use aws_sdk_transcribe::operation::start_transcription_job::{
        StartTranscriptionJobError, StartTranscriptionJobOutput,
    };
    use aws_sdk_transcribe::types::{LanguageCode, RedactionOutput};
    let labelled = mock!(aws_sdk_transcribe::Client::start_transcription_job)
        .match_requests(|r| {
            let exec = r.job_execution_settings().unwrap();
            let settings = r.settings().unwrap();
            r.transcription_job_name() == Some("call-x-0123")
                && r.media().and_then(|m| m.media_file_uri()) == Some("s3://b/recordings/x.mp3")
                && r.output_bucket_name() == Some("b")
                && r.output_key() == Some("transcripts/call-x-0123.json")
                && r.language_code() == Some(&LanguageCode::EnUs)
                && r.identify_language().is_none()
                && exec.allow_deferred_execution() == Some(true)
                && exec.data_access_role_arn() == Some("arn:aws:iam::123456789012:role/t")
                && settings.show_speaker_labels() == Some(true)
                && settings.max_speaker_labels() == Some(2)
                && r.content_redaction().map(|c| c.redaction_output())
                    == Some(&RedactionOutput::Redacted)
        })
        .then_output(|| StartTranscriptionJobOutput::builder().build());
    let identified = mock!(aws_sdk_transcribe::Client::start_transcription_job)
        .match_requests(|r| {
            r.language_code().is_none()
                && r.identify_language() == Some(true)
                && r.language_options() == [LanguageCode::EnUs, LanguageCode::FrFr]
                && r.settings().and_then(|s| s.channel_identification()) == Some(true)
                && r.content_redaction().is_none()
        })
        .then_output(|| StartTranscriptionJobOutput::builder().build());
    let conflict = mock!(aws_sdk_transcribe::Client::start_transcription_job).then_error(|| {
        StartTranscriptionJobError::ConflictException(
            aws_sdk_transcribe::types::error::ConflictException::builder()
                .message("The requested job name already exists.")
                .meta(meta(
                    "ConflictException",
                    "The requested job name already exists.",
                ))
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_transcribe,
        RuleMode::Sequential,
        [&labelled, &identified, &conflict]
    );
    let jobs = TranscribeJobs { client };
    assert_eq!(
        jobs.start(&job(Some("en-US"), true, Speakers::Labels(2)))
            .await
            .unwrap(),
        Started::Started
    );
    assert_eq!(
        jobs.start(&job(None, false, Speakers::Channels))
            .await
            .unwrap(),
        Started::Started
    );
    assert_eq!(
        jobs.start(&job(Some("en-US"), true, Speakers::Labels(2)))
            .await
            .unwrap(),
        Started::AlreadyExists
    );
}

#[tokio::test]
async fn transcribe_job_state_failed_with_reason_and_unknown_jobs() {
    use aws_sdk_transcribe::operation::get_transcription_job::{
        GetTranscriptionJobError, GetTranscriptionJobOutput,
    };
    use aws_sdk_transcribe::types::{TranscriptionJob, TranscriptionJobStatus};
    let failed = mock!(aws_sdk_transcribe::Client::get_transcription_job)
        .match_requests(|r| r.transcription_job_name() == Some("failed"))
        .then_output(|| {
            GetTranscriptionJobOutput::builder()
                .transcription_job(
                    TranscriptionJob::builder()
                        .transcription_job_name("j")
                        .transcription_job_status(TranscriptionJobStatus::Failed)
                        .failure_reason("Unsupported audio format")
                        .build(),
                )
                .build()
        });
    let unknown = mock!(aws_sdk_transcribe::Client::get_transcription_job)
        .match_requests(|r| r.transcription_job_name() == Some("unknown"))
        .then_error(|| {
        GetTranscriptionJobError::BadRequestException(
            aws_sdk_transcribe::types::error::BadRequestException::builder()
                .message("The requested job couldn't be found. Check the job name and try your request again.")
                .meta(meta("BadRequestException", "The requested job couldn't be found."))
                .build(),
        )
    });
    let throttled = mock!(aws_sdk_transcribe::Client::get_transcription_job)
        .match_requests(|r| r.transcription_job_name() == Some("slow"))
        .then_error(|| {
            GetTranscriptionJobError::LimitExceededException(
                aws_sdk_transcribe::types::error::LimitExceededException::builder()
                    .message("slow down")
                    .meta(meta("LimitExceededException", "slow down"))
                    .build(),
            )
        });
    let client = mock_client!(
        aws_sdk_transcribe,
        RuleMode::MatchAny,
        [&failed, &unknown, &throttled],
        |c| c.retry_config(aws_sdk_transcribe::config::retry::RetryConfig::disabled())
    );
    let jobs = TranscribeJobs { client };
    let state = jobs.get("failed").await.unwrap().unwrap();
    assert_eq!(
        (state.status, state.failure_reason.as_deref()),
        (JobStatus::Failed, Some("Unsupported audio format"))
    );
    assert_eq!(jobs.get("unknown").await.unwrap(), None);
    assert_eq!(
        jobs.get("slow").await.unwrap_err().class,
        ErrorClass::Throttled
    );
}

#[tokio::test]
async fn eventbridge_partial_failure_is_an_error_with_its_class() {
    use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
    use aws_sdk_eventbridge::types::PutEventsResultEntry;
    let ok = mock!(aws_sdk_eventbridge::Client::put_events)
        .match_requests(|r| {
            let e = &r.entries()[0];
            e.source() == Some("cloudops-fleet.call-center")
                && e.detail_type() == Some("CallSentimentNegative")
                && e.event_bus_name() == Some("default")
                && e.detail().is_some_and(|d| d.contains("\"callId\":\"c-1\""))
        })
        .then_output(|| {
            PutEventsOutput::builder()
                .failed_entry_count(0)
                .entries(PutEventsResultEntry::builder().event_id("e-1").build())
                .build()
        });
    let throttled = mock!(aws_sdk_eventbridge::Client::put_events).then_output(|| {
        PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(
                PutEventsResultEntry::builder()
                    .error_code("ThrottlingException")
                    .error_message("Rate exceeded")
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_eventbridge, RuleMode::Sequential, [&ok, &throttled]);
    let announcer = EventBridgeAnnouncer {
        client,
        bus: "default".into(),
    };
    let detail = serde_json::json!({"callId": "c-1"});
    announcer
        .announce("CallSentimentNegative", &detail)
        .await
        .unwrap();
    let err = announcer
        .announce("CallSentimentNegative", &detail)
        .await
        .unwrap_err();
    assert_eq!(
        (err.class, err.detail.as_str()),
        (ErrorClass::Throttled, "ThrottlingException: Rate exceeded")
    );
}

#[tokio::test]
async fn dynamodb_cancellations_tell_an_existing_call_from_the_cap() {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::{
        error::TransactionCanceledException, AttributeValue, CancellationReason,
    };
    let cancelled = |first: &'static str, second: &'static str| {
        mock!(aws_sdk_dynamodb::Client::transact_write_items).then_error(move || {
            let reason = |code: &str, item: bool| {
                let mut r = CancellationReason::builder().code(code);
                if item {
                    r = r
                        .item("CallId", AttributeValue::S("call-a".into()))
                        .item("Status", AttributeValue::S("DONE".into()))
                        .item("JobName", AttributeValue::S("call-a".into()))
                        .item("Attempt", AttributeValue::N("1".into()));
                }
                r.build()
            };
            TransactWriteItemsError::TransactionCanceledException(
                TransactionCanceledException::builder()
                    .message("Transaction cancelled")
                    .meta(meta(
                        "TransactionCanceledException",
                        "Transaction cancelled",
                    ))
                    .cancellation_reasons(reason(first, first == "ConditionalCheckFailed"))
                    .cancellation_reasons(reason(second, false))
                    .build(),
            )
        })
    };
    let exists = cancelled("ConditionalCheckFailed", "None");
    let over = cancelled("None", "ConditionalCheckFailed");
    let conflict = cancelled("TransactionConflict", "None");
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::Sequential,
        [&exists, &over, &conflict],
        |c| c.retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
    );
    let calls = DynamoCalls {
        client,
        table: "calls".into(),
    };
    let call = call_center::call::NewCall {
        call_id: "call-a".into(),
        job_name: "call-a".into(),
        attempt: 1,
        bucket: "b".into(),
        key: "recordings/a.mp3".into(),
        etag: "e".into(),
        version_id: None,
        language: None,
        redacted: false,
        at: "2026-11-23T08:00:00Z".into(),
    };
    match calls.begin(&call, "2026-11-23", 5).await.unwrap() {
        call_center::call::Begin::Exists(r) => {
            assert_eq!(r.status, Some(call_center::call::Status::Done))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        calls.begin(&call, "2026-11-23", 5).await.unwrap(),
        call_center::call::Begin::OverCap
    );
    assert_eq!(
        calls.begin(&call, "2026-11-23", 5).await.unwrap_err().class,
        ErrorClass::Conflict
    );
}

#[test]
fn every_transcribe_code_we_accept_is_one_the_sdk_knows() {
    for code in call_center::language::TRANSCRIBE_CODES {
        let known = aws_sdk_transcribe::types::LanguageCode::values();
        assert!(known.contains(code), "{code}");
    }
    for code in call_center::language::COMPREHEND_SENTIMENT {
        let known = aws_sdk_comprehend::types::LanguageCode::values();
        assert!(known.contains(code), "{code}");
    }
}

#[tokio::test]
async fn calls_by_status_read_every_page_up_to_the_limit() {
    use aws_sdk_dynamodb::operation::query::QueryOutput;
    use aws_sdk_dynamodb::types::AttributeValue;
    let call = |id: &str| {
        std::collections::HashMap::from([
            ("CallId".to_owned(), AttributeValue::S(id.into())),
            ("Status".to_owned(), AttributeValue::S("FAILED".into())),
        ])
    };
    let next =
        std::collections::HashMap::from([("CallId".to_owned(), AttributeValue::S("b".into()))]);
    let first = mock!(aws_sdk_dynamodb::Client::query)
        .match_requests(|r| {
            r.exclusive_start_key().is_none()
                && r.index_name() == Some(STATUS_INDEX)
                && r.limit() == Some(3)
        })
        .then_output({
            let (a, b, next) = (call("a"), call("b"), next.clone());
            move || {
                QueryOutput::builder()
                    .items(a.clone())
                    .items(b.clone())
                    .set_last_evaluated_key(Some(next.clone()))
                    .build()
            }
        });
    let second = mock!(aws_sdk_dynamodb::Client::query)
        .match_requests(move |r| r.exclusive_start_key() == Some(&next))
        .then_output({
            let (c, d) = (call("c"), call("d"));
            move || {
                QueryOutput::builder()
                    .items(c.clone())
                    .items(d.clone())
                    .last_evaluated_key("CallId", AttributeValue::S("d".into()))
                    .build()
            }
        });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&first, &second]);
    let calls = DynamoCalls {
        client,
        table: "calls".into(),
    };
    let found = calls
        .by_status(call_center::call::Status::Failed, 3)
        .await
        .unwrap();
    let ids: Vec<_> = found.iter().map(|c| c.call_id.as_str()).collect();
    // The second page is read because the first had fewer than the limit; no third is asked for.
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(first.num_calls(), 1);
    assert_eq!(second.num_calls(), 1);
}
