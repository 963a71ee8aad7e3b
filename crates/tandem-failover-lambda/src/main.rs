//! `bootstrap` for the provided.al2023 runtime: the controller is built on
//! the first invocation and kept while the container stays warm.
// The SDK clients inside the controller make a deep future type.
#![recursion_limit = "256"]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use tandem_failover_lambda::{answer, controller, handle, Config};
use tandem_failover_runtime::{ClientOptions, Controller};
use tokio::sync::Mutex;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TANDEM_LOG").unwrap_or_else(|_| "info".into()))
        .without_time()
        .init();
    let config = Config::from_env(|k| std::env::var(k).ok())?;
    let warm: Mutex<Option<Controller>> = Mutex::new(None);
    let (config, warm) = (&config, &warm);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let mut slot = warm.lock().await;
        if slot.is_none() {
            *slot = Some(controller(config, ClientOptions::default()).await?);
        }
        let c = slot.as_mut().expect("just built");
        let outcome = handle(c, config, &event.payload).await;
        for s in outcome.reports.iter().map(|r| r.summary()) {
            tracing::info!("{s}");
        }
        Ok::<Value, Error>(answer(&outcome))
    }))
    .await
}
