//! The starter: S3 ObjectCreated under recordings/ (and the daily sweep) → Transcribe jobs.
use call_center::{aws::wire_starter, config::StarterConfig};
use fleet_core::{config::ProcessEnv, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = lambda::init(|sdk, env| async move {
        Ok(wire_starter(
            &sdk,
            StarterConfig::from_vars(&ProcessEnv)?,
            env,
        ))
    })
    .await?;
    lambda::serve(|event| app.handle(event)).await
}
