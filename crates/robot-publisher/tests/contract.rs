//! The publisher's contract over the recording publisher and the IoT adapter against the local
//! stand-in, whose request recorder shows topic, QoS and payload of each iot-data Publish.

use fleet_testkit::Moto;
use robot_publisher::aws::IotPublisher;
use robot_publisher::contract::{self, PublisherHarness};
use robot_publisher::memory::{MemorySequence, RecordingPublisher};

struct Recording(RecordingPublisher);

impl PublisherHarness for Recording {
    type Publisher = RecordingPublisher;

    fn publisher(&self) -> &RecordingPublisher {
        &self.0
    }

    async fn published(&self) -> Vec<(String, u8, Vec<u8>)> {
        // The port publishes with QoS 1 by definition; the recorder keeps topic and payload.
        self.0
            .published
            .lock()
            .unwrap()
            .iter()
            .map(|(topic, payload)| (topic.clone(), 1, payload.clone()))
            .collect()
    }
}

struct Stand {
    moto: Moto,
    publisher: IotPublisher,
}

impl PublisherHarness for Stand {
    type Publisher = IotPublisher;

    fn publisher(&self) -> &IotPublisher {
        &self.publisher
    }

    async fn published(&self) -> Vec<(String, u8, Vec<u8>)> {
        fleet_testkit::iot_publishes(&self.moto.recorded_requests())
    }
}

#[tokio::test]
async fn recording_publisher() {
    contract::publisher(&Recording(RecordingPublisher::default())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn iot_adapter_against_the_stand_in() {
    let moto = Moto::start();
    moto.start_recording();
    let sdk = moto.sdk_config();
    let publisher = IotPublisher::new(
        aws_sdk_iot::Client::new(&sdk),
        aws_sdk_iotdataplane::Client::new(&sdk),
        None,
        Some(moto.endpoint().to_owned()),
    );
    contract::publisher(&Stand { moto, publisher }).await;
}

#[tokio::test]
async fn memory_sequence() {
    let counter = MemorySequence::default();
    contract::sequence(&counter, &counter.clone()).await;
}

/// The DynamoDB counter in the stand-in, drawn from by two clients (two containers).
#[tokio::test(flavor = "multi_thread")]
async fn dynamodb_sequence_against_the_stand_in() {
    use aws_sdk_dynamodb::types::ScalarAttributeType;
    use robot_publisher::aws::DynamoSequence;
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    fleet_testkit::seed::create_table(&ddb, "fleet-state", "Id", ScalarAttributeType::S).await;
    let first = DynamoSequence::new(ddb, "fleet-state", "rover");
    let second = DynamoSequence::new(aws_sdk_dynamodb::Client::new(&sdk), "fleet-state", "rover");
    contract::sequence(&first, &second).await;
}
