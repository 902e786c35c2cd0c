//! The lambda:invoke.waitForTaskToken entry: wiring only.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleet_core::lambda::run(approval_worker::wire_callback).await
}
