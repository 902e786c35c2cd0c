//! The lambda:invoke.waitForTaskToken entry: wiring only.
use approval_worker::{config::Config, wire_callback};
use fleet_core::{config::ProcessEnv, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = lambda::init(|sdk, env| async move {
        wire_callback(&sdk, Config::from_vars(&ProcessEnv)?, env).await
    })
    .await?;
    lambda::serve(|event| app.handle(event)).await
}
