use fleet_core::{config::ProcessEnv, lambda};
use robot_publisher::{config::Config, wire};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app =
        lambda::init(
            |sdk, env| async move { Ok(wire(&sdk, Config::from_vars(&ProcessEnv)?, env)) },
        )
        .await?;
    lambda::serve_http(|request| app.handle(request)).await
}
