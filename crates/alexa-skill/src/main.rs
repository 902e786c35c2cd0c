use alexa_skill::{config::Config, wire};
use fleet_core::{config::ProcessEnv, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app =
        lambda::init(
            |sdk, env| async move { wire(&sdk, Config::from_vars(&ProcessEnv)?, env).await },
        )
        .await?;
    lambda::serve(|event| app.handle(event)).await
}
