use dlq_handler::{config::Config, wire};
use fleet_core::{config::ProcessEnv, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app =
        lambda::init(
            |sdk, env| async move { Ok(wire(&sdk, Config::from_vars(&ProcessEnv)?, env)) },
        )
        .await?;
    lambda::serve(|event| app.handle(event)).await
}
