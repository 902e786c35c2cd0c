//! The analyser: transcripts under transcripts/ and FAILED Transcribe jobs → the calls table.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    fleet_core::lambda::run(call_center::aws::wire_analyser).await
}
