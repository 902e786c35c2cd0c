//! The archive's and the spill bucket's contract suites over the in-memory adapters and the AWS
//! adapters against the local stand-in (moto implements DynamoDB conditions, transactions with
//! cancellation reasons, GSIs, and S3).

mod common;

use dlq_handler::aws::{s3_client, DynamoArchive, S3Spill};
use dlq_handler::contract::{self, ArchiveHarness, SpillHarness};
use dlq_handler::memory::{MemoryArchive, MemorySpill};
use fleet_testkit::Moto;

struct Memory(MemoryArchive);

impl ArchiveHarness for Memory {
    type Archive = MemoryArchive;
    fn archive(&self) -> &MemoryArchive {
        &self.0
    }
}

struct Dynamo {
    _moto: Moto,
    archive: DynamoArchive,
}

impl Dynamo {
    async fn start() -> Self {
        let moto = Moto::start();
        let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
        common::moto::create_archive_table(&client, "archive").await;
        Self {
            archive: DynamoArchive::new(client, "archive"),
            _moto: moto,
        }
    }
}

impl ArchiveHarness for Dynamo {
    type Archive = DynamoArchive;
    fn archive(&self) -> &DynamoArchive {
        &self.archive
    }
}

#[tokio::test]
async fn memory_dedup_and_read_back() {
    contract::dedup_and_read_back(&Memory(MemoryArchive::new())).await;
}

#[tokio::test]
async fn memory_filters_windows_and_status() {
    contract::filters_windows_and_status(&Memory(MemoryArchive::new())).await;
}

#[tokio::test]
async fn memory_digest_ledger() {
    contract::digest_ledger(&Memory(MemoryArchive::new())).await;
}

#[tokio::test]
async fn dynamodb_dedup_and_read_back() {
    contract::dedup_and_read_back(&Dynamo::start().await).await;
}

#[tokio::test]
async fn dynamodb_filters_windows_and_status() {
    contract::filters_windows_and_status(&Dynamo::start().await).await;
}

#[tokio::test]
async fn dynamodb_digest_ledger() {
    contract::digest_ledger(&Dynamo::start().await).await;
}

struct MemoryBucket(MemorySpill);

impl SpillHarness for MemoryBucket {
    type Spill = MemorySpill;
    fn spill(&self) -> &MemorySpill {
        &self.0
    }
    fn bucket(&self) -> &str {
        "spill"
    }
}

struct S3Bucket {
    _moto: Moto,
    spill: S3Spill,
}

impl SpillHarness for S3Bucket {
    type Spill = S3Spill;
    fn spill(&self) -> &S3Spill {
        &self.spill
    }
    fn bucket(&self) -> &str {
        "spill"
    }
}

#[tokio::test]
async fn memory_spill() {
    contract::spill(&MemoryBucket(MemorySpill::new("spill"))).await;
}

#[tokio::test]
async fn s3_spill() {
    let moto = Moto::start();
    let client = s3_client(&moto.sdk_config());
    common::moto::create_bucket(&client, "spill").await;
    contract::spill(&S3Bucket {
        spill: S3Spill::new(client, "spill"),
        _moto: moto,
    })
    .await;
}
