//! The notifier's contract over the SNS adapter against the local stand-in and the recording
//! notifier.

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
