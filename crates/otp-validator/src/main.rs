use fleet_core::{config::ProcessEnv, lambda};
use otp_validator::{config::Config, wire};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app =
        lambda::init(
            |sdk, env| async move { wire(&sdk, Config::from_vars(&ProcessEnv)?, env).await },
        )
        .await?;
    lambda::serve_http(|request| app.handle(request)).await
}
