//! The shared [`DecisionRecord`] as one item of a DynamoDB table (the
//! agent-state global table), written with a conditional `PutItem`:
//! `attribute_not_exists(<key>) OR version = :expected` (`:expected` = 0 when
//! the writer saw no record; versions start at 1). `ConditionalCheckFailed`
//! is a lost race: the caller re-reads and decides again.
//!
//! The item's key attribute is the table's hash key (read once with
//! `DescribeTable`: the agent-state table is keyed by `agent_id`), its value
//! `tandem-failover#<group ARN>`, so it never collides with an agent.

use crate::{Result, RuntimeError};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, KeyType};
use std::collections::HashMap;
use tandem_failover::distribution::Distribution;
use tandem_failover::record::DecisionRecord;
use tokio::sync::OnceCell;

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    Written,
    /// The stored version was not the expected one.
    LostRace,
}

/// Where the shared decision record lives. [`DynamoRecordStore`] is the AWS
/// one; tests keep it in memory.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// The stored record, `None` when there is none.
    async fn read(&self) -> Result<Option<DecisionRecord>>;
    /// Writes `record` if the stored version is `expected` (`None`: no
    /// record); another version stored is a lost race, not an error.
    async fn write(&self, record: &DecisionRecord, expected: Option<u64>) -> Result<WriteOutcome>;
}

pub struct DynamoRecordStore {
    pub table: String,
    pub key_value: String,
    /// (region, client), own region first: a global table answers in both.
    clients: Vec<(String, aws_sdk_dynamodb::Client)>,
    key_attr: OnceCell<String>,
}

fn aws_err<E, R>(operation: &'static str, region: &str, e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> RuntimeError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let message = match e.as_service_error() {
        Some(s) => format!("{}: {}", s.code().unwrap_or("error"), s.message().unwrap_or("no message")),
        None => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            msg
        }
    };
    RuntimeError::Aws { operation, region: region.to_string(), message }
}

impl DynamoRecordStore {
    pub fn new(table: &str, group_arn: &str, clients: Vec<(String, aws_sdk_dynamodb::Client)>) -> Self {
        DynamoRecordStore {
            table: table.to_string(),
            key_value: format!("tandem-failover#{group_arn}"),
            clients,
            key_attr: OnceCell::new(),
        }
    }

    async fn key_attr(&self) -> Result<&str> {
        self.key_attr
            .get_or_try_init(|| async {
                let mut last = RuntimeError::Invalid("no region to call".into());
                for (region, client) in &self.clients {
                    match client.describe_table().table_name(&self.table).send().await {
                        Ok(out) => {
                            let key = out
                                .table()
                                .map(|t| t.key_schema())
                                .unwrap_or_default()
                                .iter()
                                .find(|k| k.key_type() == &KeyType::Hash)
                                .map(|k| k.attribute_name().to_string());
                            return key.ok_or_else(|| RuntimeError::Invalid(format!("table {} has no hash key", self.table)));
                        }
                        Err(e) => last = aws_err("DescribeTable", region, &e),
                    }
                }
                Err(last)
            })
            .await
            .map(String::as_str)
    }
}

#[async_trait]
impl RecordStore for DynamoRecordStore {
    /// The stored record (a consistent read), `None` when there is none.
    async fn read(&self) -> Result<Option<DecisionRecord>> {
        let key = self.key_attr().await?.to_string();
        let mut last = RuntimeError::Invalid("no region to call".into());
        for (region, client) in &self.clients {
            let r = client
                .get_item()
                .table_name(&self.table)
                .key(&key, AttributeValue::S(self.key_value.clone()))
                .consistent_read(true)
                .send()
                .await;
            match r {
                Ok(out) => return out.item().map(|item| parse(item, region)).transpose(),
                Err(e) => {
                    last = aws_err("GetItem", region, &e);
                    tracing::debug!(%last, "trying the next region");
                }
            }
        }
        Err(last)
    }

    /// Writes `record` if the stored version is `expected` (`None`: no record).
    async fn write(&self, record: &DecisionRecord, expected: Option<u64>) -> Result<WriteOutcome> {
        let key = self.key_attr().await?.to_string();
        let distribution = serde_json::to_string(&record.distribution).map_err(|e| RuntimeError::Invalid(e.to_string()))?;
        let mut last = RuntimeError::Invalid("no region to call".into());
        for (region, client) in &self.clients {
            let r = client
                .put_item()
                .table_name(&self.table)
                .item(&key, AttributeValue::S(self.key_value.clone()))
                .item("version", AttributeValue::N(record.version.to_string()))
                .item("distribution", AttributeValue::S(distribution.clone()))
                .item("decided_at", AttributeValue::N(record.decided_at.to_string()))
                .item("by_region", AttributeValue::S(record.by_region.clone()))
                .condition_expression("attribute_not_exists(#k) OR #v = :expected")
                .expression_attribute_names("#k", &key)
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":expected", AttributeValue::N(expected.unwrap_or(0).to_string()))
                .send()
                .await;
            match r {
                Ok(_) => return Ok(WriteOutcome::Written),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                    return Ok(WriteOutcome::LostRace)
                }
                Err(e) => {
                    last = aws_err("PutItem", region, &e);
                    tracing::debug!(%last, "trying the next region");
                }
            }
        }
        Err(last)
    }
}

fn parse(item: &HashMap<String, AttributeValue>, region: &str) -> Result<DecisionRecord> {
    let bad = |what: &str| RuntimeError::Invalid(format!("the decision record read in {region} has no valid `{what}`"));
    let num =
        |name: &str| -> Result<u64> { item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).ok_or_else(|| bad(name)) };
    let text = |name: &str| -> Result<String> { item.get(name).and_then(|v| v.as_s().ok()).cloned().ok_or_else(|| bad(name)) };
    let distribution: Distribution = serde_json::from_str(&text("distribution")?).map_err(|_| bad("distribution"))?;
    Ok(DecisionRecord { version: num("version")?, distribution, decided_at: num("decided_at")?, by_region: text("by_region")? })
}
