//! The skill's ports' contract suites over the in-memory adapters and DynamoDB and Kinesis in the
//! local stand-in.

use alexa_skill::aws::{DynamoAccess, KinesisStreams};
use alexa_skill::contract::{self, StreamsHarness};
use alexa_skill::memory::{FakeStreams, MemoryAccess};
use alexa_skill::ports::Stream;
use aws_sdk_dynamodb::types::ScalarAttributeType;
use fleet_testkit::seed::create_table;
use fleet_testkit::Moto;

struct Memory;

impl StreamsHarness for Memory {
    type Streams = FakeStreams;

    async fn with(&self, streams: &[Stream]) -> FakeStreams {
        FakeStreams {
            streams: streams.to_vec(),
            failure: None,
        }
    }
}

struct Stand(Moto);

impl StreamsHarness for Stand {
    type Streams = KinesisStreams;

    async fn with(&self, streams: &[Stream]) -> KinesisStreams {
        let kinesis = aws_sdk_kinesis::Client::new(&self.0.sdk_config());
        for stream in streams {
            kinesis
                .create_stream()
                .stream_name(&stream.name)
                .shard_count(stream.shards as i32)
                .send()
                .await
                .unwrap();
        }
        // Small pages, so the adapter pages through ListStreams.
        KinesisStreams::new(kinesis).with_page_size(5)
    }
}

#[tokio::test]
async fn in_memory() {
    contract::access_store(&MemoryAccess::default()).await;
    contract::streams(&Memory).await;
}

#[tokio::test]
async fn aws_adapters_against_the_stand_in() {
    let moto = Moto::start();
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
    create_table(&ddb, "access", "UserId", ScalarAttributeType::S).await;
    contract::access_store(&DynamoAccess::new(ddb, "access")).await;
    contract::streams(&Stand(moto)).await;
}
