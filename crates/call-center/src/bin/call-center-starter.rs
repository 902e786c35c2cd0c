//! The starter: S3 ObjectCreated under recordings/ (and the daily sweep) → Transcribe jobs.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleet_core::lambda::run(call_center::aws::wire_starter).await
}
