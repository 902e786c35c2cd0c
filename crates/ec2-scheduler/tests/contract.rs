//! The state store's contract over the in-memory store and the DynamoDB adapter against the
//! local stand-in.

use ec2_scheduler::aws::DynamoState;
use ec2_scheduler::contract;
use ec2_scheduler::memory::MemoryState;
use fleet_testkit::seed::create_state_table;
use fleet_testkit::Moto;

#[tokio::test]
async fn in_memory_state() {
    contract::state_store(&MemoryState::default()).await;
}

#[tokio::test]
async fn dynamodb_state_against_the_stand_in() {
    let moto = Moto::start();
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
    create_state_table(&ddb, "state").await;
    contract::state_store(&DynamoState::new(ddb, "state")).await;
}
