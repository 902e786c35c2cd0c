//! The OTP/MFA API. Wiring only.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleet_core::lambda::run_http(otp_validator::wire).await
}
