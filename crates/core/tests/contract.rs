//! The notifier's contract over the SNS adapter against the local stand-in and the recording
//! notifier; the event ledger's over DynamoDB in the stand-in and memory.

use fleet_core::contract::NotifierHarness;
use fleet_core::{RecordingNotifier, SnsNotifier};
use fleet_testkit::Moto;

struct Sns {
    moto: Moto,
    notifier: SnsNotifier,
}

impl NotifierHarness for Sns {
    type Notifier = SnsNotifier;

    fn notifier(&self) -> &SnsNotifier {
        &self.notifier
    }

    fn published(&self) -> Vec<(String, String)> {
        self.moto
            .sns_messages()
            .into_iter()
            .map(|m| (m.subject.unwrap_or_default(), m.message))
            .collect()
    }
}

#[tokio::test]
async fn sns_notifier_against_the_stand_in() {
    let moto = Moto::start();
    let topic = fleet_testkit::seed::create_topic(&moto.sdk_config(), "reports").await;
    let notifier = SnsNotifier::new(aws_sdk_sns::Client::new(&moto.sdk_config()), topic);
    fleet_core::contract::notifier(&Sns { moto, notifier }).await;
}

struct Recording(RecordingNotifier);

impl NotifierHarness for Recording {
    type Notifier = RecordingNotifier;

    fn notifier(&self) -> &RecordingNotifier {
        &self.0
    }

    fn published(&self) -> Vec<(String, String)> {
        self.0.sent()
    }
}

#[tokio::test]
async fn recording_notifier() {
    fleet_core::contract::notifier(&Recording(RecordingNotifier::default())).await;
}

#[tokio::test]
async fn memory_event_ledger() {
    fleet_core::contract::event_ledger(&fleet_core::ledger::MemoryLedger::default()).await;
}

#[tokio::test]
async fn dynamodb_event_ledger_against_the_stand_in() {
    let moto = Moto::start();
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
    fleet_testkit::seed::create_state_table(&ddb, "state").await;
    let ledger = fleet_core::dynamo::DynamoLedger::new(ddb, "state", "fn#", "state table");
    fleet_core::contract::event_ledger(&ledger).await;
}
