//! The expiry, reminder and redelivery sweep: wiring only.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleet_core::lambda::run(approval_worker::wire_sweep).await
}
