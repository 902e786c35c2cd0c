//! The SMS delivery step: queued code requests → codes by SMS. Wiring only.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleet_core::lambda::run(otp_validator::wire_sender).await
}
