//! The scheduled GetActivityTask poller (the seed's activity worker): wiring only.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleet_core::lambda::run(approval_worker::wire_poller).await
}
