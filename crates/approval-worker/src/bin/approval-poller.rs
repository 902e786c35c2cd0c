//! The scheduled GetActivityTask poller (the seed's activity worker): wiring only.
use approval_worker::{config::Config, wire_poller};
use fleet_core::{config::ProcessEnv, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = lambda::init(|sdk, env| async move {
        wire_poller(&sdk, Config::from_vars(&ProcessEnv)?, env).await
    })
    .await?;
    lambda::serve(|event| app.handle(event)).await
}
