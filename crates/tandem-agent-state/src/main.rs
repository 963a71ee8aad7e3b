//! The agent-state sync function's bootstrap (provided.al2023): a batch of
//! Kinesis records per invocation; the table comes from TANDEM_TABLE.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TANDEM_LOG").unwrap_or_else(|_| "info".into()))
        .without_time()
        .init();
    let table = std::env::var("TANDEM_TABLE").map_err(|_| "TANDEM_TABLE (the agent-state table's name) is not set")?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    let db = aws_sdk_dynamodb::Client::new(&config);
    let (table, region, db) = (&table, &region, &db);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let out = tandem_agent_state::apply(db, table, region, &event.payload).await?;
        tracing::info!(written = out.written, stale = out.stale, skipped = out.skipped.len(), "batch applied");
        Ok::<Value, Error>(json!({ "written": out.written, "stale": out.stale, "skipped": out.skipped }))
    }))
    .await
}
