//! The analyser: transcripts under transcripts/ and FAILED Transcribe jobs → the calls table.
use call_center::{aws::wire_analyser, config::AnalyserConfig};
use fleet_core::{config::ProcessEnv, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = lambda::init(|sdk, env| async move {
        Ok(wire_analyser(
            &sdk,
            AnalyserConfig::from_vars(&ProcessEnv)?,
            env,
        ))
    })
    .await?;
    lambda::serve(|event| app.handle(event)).await
}
