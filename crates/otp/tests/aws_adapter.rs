//! The adapters against `aws-smithy-mocks`. The stand-in accepts any MFA code, so STS's answers
//! (wrong code, session credentials, throttling) are shown here; and the store's conditional write.

use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::error::ErrorMetadata;
use aws_sdk_sts::operation::get_session_token::{GetSessionTokenError, GetSessionTokenOutput};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use fleet_otp::aws::{DynamoStore, StsMfa};
use fleet_otp::ports::{MfaCheck, StateStore};
use fleet_otp::{MfaVerdict, UserState};

fn sts_error(code: &'static str, message: &'static str) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_sts::Client::get_session_token).then_error(move || {
        GetSessionTokenError::generic(ErrorMetadata::builder().code(code).message(message).build())
    })
}

fn sts(rule: &aws_smithy_mocks::Rule) -> StsMfa {
    StsMfa::new(mock_client!(
        aws_sdk_sts,
        RuleMode::Sequential,
        [rule],
        |c| c.retry_config(
            RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(std::time::Duration::from_millis(1))
        )
    ))
}

#[tokio::test]
async fn the_token_is_checked_with_get_session_token_for_900_seconds() {
    let ok = mock!(aws_sdk_sts::Client::get_session_token)
        .match_requests(|r| {
            r.serial_number() == Some("arn:aws:iam::123456789012:mfa/alice")
                && r.token_code() == Some("246810")
                && r.duration_seconds() == Some(900)
        })
        .then_output(|| GetSessionTokenOutput::builder().build());
    assert_eq!(
        sts(&ok)
            .check("arn:aws:iam::123456789012:mfa/alice", "246810")
            .await,
        MfaVerdict::Valid
    );
    assert_eq!(ok.num_calls(), 1);
}

#[tokio::test]
async fn a_wrong_code_is_invalid_and_everything_else_unavailable() {
    let cases = [
        (
            sts_error(
                "AccessDenied",
                "MultiFactorAuthentication failed with invalid MFA one time pass code.",
            ),
            MfaVerdict::Invalid,
        ),
        (
            sts_error(
                "AccessDenied",
                "Cannot call GetSessionToken with session credentials",
            ),
            MfaVerdict::Unavailable,
        ),
        (
            sts_error("Throttling", "Rate exceeded"),
            MfaVerdict::Unavailable,
        ),
        (
            sts_error("InternalFailure", "oops"),
            MfaVerdict::Unavailable,
        ),
        (
            sts_error("ValidationError", "bad serial"),
            MfaVerdict::Unavailable,
        ),
    ];
    for (rule, expected) in cases {
        assert_eq!(
            sts(&rule).check("arn:aws:iam::1:mfa/x", "123456").await,
            expected
        );
    }
}

#[tokio::test]
async fn a_save_over_a_newer_version_is_refused_not_overwritten() {
    let conflict = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r| {
            r.condition_expression() == Some("Version = :v")
                && r.expression_attribute_values()
                    .and_then(|v| v.get(":v"))
                    .and_then(|v| v.as_n().ok())
                    == Some(&"4".to_owned())
                && r.item()
                    .and_then(|i| i.get("Version"))
                    .and_then(|v| v.as_n().ok())
                    == Some(&"5".to_owned())
        })
        .then_error(|| {
            PutItemError::ConditionalCheckFailedException(
                aws_sdk_dynamodb::types::error::ConditionalCheckFailedException::builder().build(),
            )
        });
    let first = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|r| r.condition_expression() == Some("attribute_not_exists(UserId)"))
        .then_output(|| PutItemOutput::builder().build());
    let store = DynamoStore::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&conflict, &first]),
        "codes",
        "api",
    );
    assert!(!store
        .save("alice", &UserState::default(), Some(4))
        .await
        .unwrap());
    assert!(store
        .save("alice", &UserState::default(), None)
        .await
        .unwrap());
}
