//! The expiry, reminder and redelivery sweep: wiring only.
use approval_worker::{config::Config, wire_sweep};
use fleet_core::{config::ProcessEnv, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = lambda::init(|sdk, env| async move {
        wire_sweep(&sdk, Config::from_vars(&ProcessEnv)?, env).await
    })
    .await?;
    lambda::serve(|event| app.handle(event)).await
}
