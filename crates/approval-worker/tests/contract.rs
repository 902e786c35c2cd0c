//! The approvals store's contract over both adapters: in memory, and DynamoDB against the local
//! stand-in (conditional writes, the token index in a transaction, paged scans).

use approval_worker::aws::DynamoStore;
use approval_worker::memory::MemoryStore;
use aws_sdk_dynamodb::types::ScalarAttributeType;
use fleet_testkit::Moto;

#[tokio::test]
async fn memory_store() {
    approval_worker::contract::store(&MemoryStore::default()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dynamodb_store_against_the_stand_in() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    fleet_testkit::seed::create_table(&ddb, "approvals", "RequestId", ScalarAttributeType::S).await;
    let store = DynamoStore::new(&sdk, "approvals", chrono::Duration::days(90));
    approval_worker::contract::store(&store).await;
}
