//! `aws.dynamodb.global_table`: a DynamoDB global table (version 2019.11.21):
//! the table in the resource's region, then one replica per region through
//! UpdateTable ReplicaUpdates, one replica change at a time, each waited on
//! until ReplicaStatus is ACTIVE. Adding or removing a region is an in-place
//! update; the table itself is handled as `aws.dynamodb.table` handles it.
//! https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables.tutorial.html
//! https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html

use crate::dynamodb_table::Table;
use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    CreateReplicationGroupMemberAction, DeleteReplicationGroupMemberAction, ReplicationGroupUpdate, TableStatus,
};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use tandem_provider::{wait_until, Ctx, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter};
use tandem_schema::{Field, Type};

pub struct GlobalTable {
    aws: Arc<AwsContext>,
    table: Table,
    schema: KindSchema,
}

impl GlobalTable {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let table = Table::new(aws.clone());
        let mut schema = table.schema().clone();
        schema.type_name = "aws.dynamodb.global_table";
        schema.doc = "A DynamoDB global table (2019.11.21): the table in this region plus a replica in each listed region.";
        schema.api_reference = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html";
        schema.properties.push(
            Field::new(
                "replicas",
                Type::list(Type::Object(vec![Field::new("region_name", Type::String).required().doc("RegionName of the replica.")])),
            )
            .unordered()
            .doc("One entry per replica region (not the table's own region); added and removed one at a time."),
        );
        GlobalTable { aws, table, schema }
    }
}

fn wanted(props: &Map<String, Value>) -> BTreeSet<String> {
    props
        .get("replicas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("region_name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn without_replicas(props: &Map<String, Value>) -> Map<String, Value> {
    let mut p = props.clone();
    p.remove("replicas");
    p
}

impl GlobalTable {
    /// The replica regions DescribeTable reports, with their status.
    async fn replicas(&self, ctx: &Ctx, name: &str) -> Result<Vec<(String, String)>> {
        let client = self.aws.dynamodb(ctx.region()?).await;
        let d = client.describe_table().table_name(name).send().await.map_err(|e| classify("DescribeTable", name, e))?;
        Ok(d.table()
            .map(|t| {
                t.replicas()
                    .iter()
                    .filter_map(|r| {
                        Some((r.region_name()?.to_string(), r.replica_status().map(|s| s.as_str().to_string()).unwrap_or_default()))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Add or remove one replica and wait for it to settle (one change at a time per table).
    async fn change(&self, ctx: &Ctx, name: &str, region: &str, add: bool) -> Result<()> {
        let client = self.aws.dynamodb(ctx.region()?).await;
        let update = if add {
            ReplicationGroupUpdate::builder()
                .create(
                    CreateReplicationGroupMemberAction::builder()
                        .region_name(region)
                        .build()
                        .map_err(|e| ProviderError::invalid(e.to_string()))?,
                )
                .build()
        } else {
            ReplicationGroupUpdate::builder()
                .delete(
                    DeleteReplicationGroupMemberAction::builder()
                        .region_name(region)
                        .build()
                        .map_err(|e| ProviderError::invalid(e.to_string()))?,
                )
                .build()
        };
        client.update_table().table_name(name).replica_updates(update).send().await.map_err(|e| classify("UpdateTable", name, e))?;
        let what = format!("replica in {region}");
        wait_until(ctx, &what, Waiter::default(), || async {
            let d = client.describe_table().table_name(name).send().await.map_err(|e| classify("DescribeTable", name, e))?;
            let Some(t) = d.table() else { return Ok(WaitOutcome::Pending("not visible".into())) };
            let status = t
                .replicas()
                .iter()
                .find(|r| r.region_name() == Some(region))
                .and_then(|r| r.replica_status())
                .map(|s| s.as_str().to_string());
            let table_active = t.table_status() == Some(&TableStatus::Active);
            Ok(match (add, status.as_deref()) {
                (true, Some("ACTIVE")) if table_active => WaitOutcome::Ready(()),
                (true, Some(s @ ("CREATION_FAILED" | "REGION_DISABLED"))) => WaitOutcome::Failed(s.to_string()),
                (false, None) if table_active => WaitOutcome::Ready(()),
                (_, s) => WaitOutcome::Pending(s.unwrap_or("UPDATING").to_string()),
            })
        })
        .await
    }

    async fn converge(&self, ctx: &Ctx, name: &str, want: &BTreeSet<String>) -> Result<()> {
        let have: BTreeSet<String> = self.replicas(ctx, name).await?.into_iter().map(|(r, _)| r).collect();
        for r in want.difference(&have) {
            self.change(ctx, name, r, true).await?;
        }
        for r in have.difference(want) {
            self.change(ctx, name, r, false).await?;
        }
        Ok(())
    }

    async fn observe(&self, ctx: &Ctx, base: Observed) -> Result<Observed> {
        let mut o = base;
        let mut regions: Vec<String> = self.replicas(ctx, &o.id).await?.into_iter().map(|(r, _)| r).collect();
        regions.sort();
        o.properties.insert("replicas".into(), Value::Array(regions.iter().map(|r| json!({"region_name": r})).collect()));
        Ok(o)
    }
}

#[async_trait]
impl ResourceKind for GlobalTable {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "dynamodb:CreateTable",
            "dynamodb:DeleteTable",
            "dynamodb:ListTagsOfResource",
            "dynamodb:TagResource",
            "dynamodb:UntagResource",
            "dynamodb:DescribeTable",
            "dynamodb:UpdateTable",
            "dynamodb:CreateTableReplica",
            "dynamodb:DeleteTableReplica",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
            "iam:CreateServiceLinkedRole",
        ]
    }

    // Global tables 2019.11.21 need streams with NEW_AND_OLD_IMAGES; a replica
    // cannot be in the table's own region.
    fn validate(&self, region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        let view = props.get("stream_specification").and_then(|s| s.get("stream_view_type")).and_then(Value::as_str);
        let enabled = props.get("stream_specification").and_then(|s| s.get("stream_enabled")).and_then(Value::as_bool);
        if props.contains_key("stream_specification") && (enabled == Some(false) || view.is_some_and(|v| v != "NEW_AND_OLD_IMAGES")) {
            out.push(Invalid::new("stream_specification", "a global table needs streams on with stream_view_type NEW_AND_OLD_IMAGES"));
        }
        if let Some(r) = region.filter(|r| wanted(props).contains(*r)) {
            out.push(Invalid::new("replicas", format!("{r} is the table's own region; list only the other regions under replicas")));
        }
        // "A global table must have throughput capacity configured one of two
        // ways: On-demand capacity mode ... Provisioned capacity mode with auto
        // scaling"; DynamoDB refuses the replica of a PROVISIONED table whose
        // write capacity is not autoscaled ("Table write capacity should either
        // be Pay-Per-Request or AutoScaled.", hashicorp/terraform-provider-aws#13097).
        // tandem declares no Application Auto Scaling yet, so such a spec would
        // fail at apply, after the table is made.
        // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html
        let replicas = props.get("replicas").and_then(Value::as_array).is_some_and(|r| !r.is_empty());
        let billing = match props.get("billing_mode") {
            Some(Value::String(b)) => Some(b.as_str()),
            // Not known before apply: nothing to say yet.
            Some(Value::Null) => None,
            _ if props.contains_key("provisioned_throughput") => Some("PROVISIONED"),
            _ => Some("PAY_PER_REQUEST"),
        };
        if replicas && billing == Some("PROVISIONED") {
            out.push(Invalid::new(
                "billing_mode",
                "a PROVISIONED global table takes replicas only with write auto scaling (DynamoDB refuses them otherwise: \"Table write capacity should either be Pay-Per-Request or AutoScaled.\"), which tandem cannot declare yet: use billing_mode: PAY_PER_REQUEST",
            ));
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let mut base = without_replicas(props);
        // Replicas need NEW_AND_OLD_IMAGES streams; turn them on when the spec says nothing.
        base.entry("stream_specification").or_insert_with(|| json!({"stream_enabled": true, "stream_view_type": "NEW_AND_OLD_IMAGES"}));
        let made = self.table.create(ctx, &base).await?;
        let partial = made.clone();
        self.converge(ctx, &made.id, &wanted(props)).await.map_err(|e| e.with_partial(partial))?;
        let now = self.table.read(ctx, &made.id).await?.ok_or_else(|| ProviderError::not_found(format!("{} vanished", made.id)))?;
        self.observe(ctx, now).await
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        match self.table.read(ctx, id).await? {
            Some(o) => Ok(Some(self.observe(ctx, o).await?)),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let table_fields: Vec<String> = changed.iter().filter(|f| *f != "replicas").cloned().collect();
        if !table_fields.is_empty() {
            self.table.update(ctx, id, &without_replicas(prior), &without_replicas(desired), &table_fields).await?;
        }
        if changed.iter().any(|f| f == "replicas") {
            self.converge(ctx, id, &wanted(desired)).await?;
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, prior: &Map<String, Value>) -> Result<()> {
        // Replicas go first, one at a time; then the table.
        match self.replicas(ctx, id).await {
            Ok(_) => self.converge(ctx, id, &BTreeSet::new()).await?,
            Err(e) if e.class == tandem_provider::ErrorClass::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        self.table.delete(ctx, id, &without_replicas(prior)).await
    }
}
