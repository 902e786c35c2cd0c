//! The OTP ports' contract suites over both adapters: profiles, the version-checked state store
//! and SMS against the local stand-in (DynamoDB, SNS), the MFA check over STS on aws-smithy-mocks
//! (the stand-in's STS accepts any MFA code).

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::error::ErrorMetadata;
use aws_sdk_sts::operation::get_session_token::{GetSessionTokenError, GetSessionTokenOutput};
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use fleet_otp::aws::{DynamoProfiles, DynamoStore, SnsSms, StsMfa};
use fleet_otp::contract::{self, MfaHarness, ProfilesHarness, SmsHarness};
use fleet_otp::memory::{FakeMfa, MemoryProfiles, MemoryStore, RecordingSms};
use fleet_otp::Profile;
use fleet_testkit::seed::create_table;
use fleet_testkit::Moto;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Memory {
    sms: RecordingSms,
}

impl ProfilesHarness for Memory {
    type Profiles = MemoryProfiles;

    async fn with(&self, profiles: &[Profile]) -> MemoryProfiles {
        MemoryProfiles::with(profiles.iter().cloned())
    }
}

impl SmsHarness for Memory {
    type Sms = RecordingSms;

    fn sms(&self) -> &RecordingSms {
        &self.sms
    }

    fn sent(&self) -> Vec<(String, String)> {
        self.sms.sent()
    }
}

impl MfaHarness for Memory {
    type Check = FakeMfa;

    fn device(&self, serial: &str, token: &str) -> FakeMfa {
        FakeMfa {
            tokens: [(serial.to_owned(), token.to_owned())].into(),
            ..FakeMfa::default()
        }
    }

    fn unavailable(&self) -> FakeMfa {
        FakeMfa {
            unavailable: true,
            ..FakeMfa::default()
        }
    }
}

struct Stand {
    moto: Moto,
    sms: SnsSms,
    tables: AtomicUsize,
}

impl Stand {
    fn new() -> Self {
        let moto = Moto::start();
        let sms = SnsSms::new(aws_sdk_sns::Client::new(&moto.sdk_config()), None);
        Self {
            moto,
            sms,
            tables: AtomicUsize::new(0),
        }
    }

    fn ddb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.moto.sdk_config())
    }

    async fn table(&self) -> String {
        let name = format!("t{}", self.tables.fetch_add(1, Ordering::Relaxed));
        create_table(&self.ddb(), &name, "UserId", ScalarAttributeType::S).await;
        name
    }
}

impl ProfilesHarness for Stand {
    type Profiles = DynamoProfiles;

    async fn with(&self, profiles: &[Profile]) -> DynamoProfiles {
        let table = self.table().await;
        for p in profiles {
            let mut put = self
                .ddb()
                .put_item()
                .table_name(&table)
                .item("UserId", AttributeValue::S(p.user_id.clone()))
                .item("DisplayName", AttributeValue::S(p.display_name.clone()))
                .item("Phone", AttributeValue::S(p.phone.clone()));
            if let Some(serial) = &p.mfa_serial {
                put = put.item("MfaSerial", AttributeValue::S(serial.clone()));
            }
            put.send().await.unwrap();
        }
        DynamoProfiles::new(self.ddb(), table)
    }
}

impl SmsHarness for Stand {
    type Sms = SnsSms;

    fn sms(&self) -> &SnsSms {
        &self.sms
    }

    fn sent(&self) -> Vec<(String, String)> {
        self.moto.sms_messages()
    }
}

/// STS's GetSessionToken on aws-smithy-mocks: AccessDenied for a wrong token, as STS answers.
struct MockedSts;

impl MfaHarness for MockedSts {
    type Check = StsMfa;

    fn device(&self, serial: &str, token: &str) -> StsMfa {
        let (serial, token) = (serial.to_owned(), token.to_owned());
        let rule = mock!(aws_sdk_sts::Client::get_session_token).then_compute_response(move |r| {
            if r.serial_number() == Some(serial.as_str()) && r.token_code() == Some(&token) {
                MockResponse::Output(GetSessionTokenOutput::builder().build())
            } else {
                MockResponse::Error(GetSessionTokenError::generic(
                    ErrorMetadata::builder()
                        .code("AccessDenied")
                        .message(
                            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
                        )
                        .build(),
                ))
            }
        });
        StsMfa::new(mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&rule]))
    }

    fn unavailable(&self) -> StsMfa {
        let rule = mock!(aws_sdk_sts::Client::get_session_token).then_error(|| {
            GetSessionTokenError::generic(
                ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        });
        StsMfa::new(mock_client!(
            aws_sdk_sts,
            RuleMode::MatchAny,
            [&rule],
            |c| c.retry_config(RetryConfig::disabled())
        ))
    }
}

#[tokio::test]
async fn in_memory() {
    let memory = Memory {
        sms: RecordingSms::default(),
    };
    contract::profiles(&memory).await;
    contract::state_store(&MemoryStore::default()).await;
    contract::sms(&memory).await;
    contract::mfa(&memory).await;
}

#[tokio::test]
async fn aws_adapters_against_the_stand_in() {
    let stand = Stand::new();
    contract::profiles(&stand).await;
    let table = stand.table().await;
    contract::state_store(&DynamoStore::new(stand.ddb(), &table, "api")).await;
    contract::sms(&stand).await;
}

/// Each function's documents live under its own prefix (what its IAM `dynamodb:LeadingKeys`
/// condition admits): the skill's store never reads or overwrites the API's.
#[tokio::test]
async fn each_function_keeps_to_its_own_prefix() {
    use fleet_otp::ports::StateStore;
    let stand = Stand::new();
    let table = stand.table().await;
    let api = DynamoStore::new(stand.ddb(), &table, "api");
    let alexa = DynamoStore::new(stand.ddb(), &table, "alexa");
    let mut state = fleet_otp::UserState::default();
    state.failures.push(chrono::Utc::now());
    assert!(api.save("user#alice", &state, None).await.unwrap());
    assert_eq!(
        alexa.load("user#alice").await.unwrap(),
        (Default::default(), None)
    );
    assert!(alexa
        .save("user#alice", &Default::default(), None)
        .await
        .unwrap());
    assert_eq!(api.load("user#alice").await.unwrap().0, state);
    let keys: Vec<String> = stand
        .ddb()
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|i| i.get("UserId")?.as_s().ok().cloned())
        .collect();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, ["alexa#user#alice", "api#user#alice"]);
}

#[tokio::test]
async fn sts_on_smithy_mocks() {
    contract::mfa(&MockedSts).await;
}
