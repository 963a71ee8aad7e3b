//! `aws.dynamodb.table`: a DynamoDB table (CreateTable / DescribeTable /
//! UpdateTable / TagResource / UntagResource / DeleteTable).
//! https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html

use crate::{classify, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput, ScalarAttributeType, StreamSpecification,
    StreamViewType, TableStatus, Tag,
};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    prop_i64, prop_str, wait_until, Ctx, ErrorClass, Found, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter, only_in_place, delete_and_wait, gone_is_none,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Table {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

fn invalid(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::invalid(e.to_string())
}

impl Table {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.dynamodb.table",
            doc: "A DynamoDB table.",
            api_reference: "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html",
            regional: true,
            properties: vec![
                Field::new("table_name", Type::String)
                    .required()
                    .force_new()
                    .check(Check::Length(3, 255))
                    .doc("TableName; defaults to the resource key."),
                Field::new(
                    "attribute_definitions",
                    Type::list(Type::Object(vec![
                        Field::new("attribute_name", Type::String).required(),
                        Field::new("attribute_type", Type::enumeration(&["S", "N", "B"])).required(),
                    ])),
                )
                .required()
                .force_new()
                // Without secondary indexes (not modelled here) UpdateTable takes
                // AttributeDefinitions only alongside GlobalSecondaryIndexUpdates, and
                // the key attributes' types cannot change: a change means a new table.
                // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html
                .doc("AttributeDefinitions: the key attributes and their types; cannot change."),
                Field::new(
                    "key_schema",
                    Type::list(Type::Object(vec![
                        Field::new("attribute_name", Type::String).required(),
                        Field::new("key_type", Type::enumeration(&["HASH", "RANGE"])).required(),
                    ])),
                )
                .required()
                .force_new()
                .doc("KeySchema: the partition key (HASH) and optional sort key (RANGE); cannot change."),
                Field::new("billing_mode", Type::enumeration(&["PROVISIONED", "PAY_PER_REQUEST"])).computed().doc("BillingMode."),
                Field::new(
                    "provisioned_throughput",
                    Type::Object(vec![
                        Field::new("read_capacity_units", Type::Integer).required(),
                        Field::new("write_capacity_units", Type::Integer).required(),
                    ]),
                )
                .doc("ProvisionedThroughput, for PROVISIONED billing."),
                Field::new(
                    "stream_specification",
                    Type::Object(vec![
                        Field::new("stream_enabled", Type::Boolean).required(),
                        Field::new("stream_view_type", Type::enumeration(&["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])),
                    ]),
                )
                .doc("StreamSpecification; global tables need NEW_AND_OLD_IMAGES."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![
                OutputDef::new("arn", "The table ARN."),
                OutputDef::new("name", "The table name."),
                OutputDef::new("stream_arn", "The latest stream ARN, when streams are on."),
            ],
            name_field: Some("table_name"),
            import_id: "the table name",
        };
        Table { aws, schema }
    }

    /// Waits for ACTIVE. `fresh`: the table was just created, so a not found
    /// means "not visible yet"; otherwise it means gone.
    async fn wait_active(&self, ctx: &Ctx, client: &aws_sdk_dynamodb::Client, name: &str, fresh: bool) -> Result<()> {
        wait_until(ctx, "table", Waiter::default(), || async {
            // "If you issue a DescribeTable request immediately after a
            // CreateTable request, DynamoDB might return a
            // ResourceNotFoundException": not visible yet, never gone (and never
            // a reason to create it again).
            // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeTable.html
            let described = client.describe_table().table_name(name).send().await.map_err(|e| classify("DescribeTable", name, e));
            let Some(d) = (if fresh { gone_is_none(described)? } else { Some(described?) }) else {
                return Ok(WaitOutcome::Pending("not visible yet".into()));
            };
            Ok(match d.table().and_then(|t| t.table_status()) {
                Some(TableStatus::Active) => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await
    }
}

fn attribute_definitions(props: &Map<String, Value>) -> Result<Vec<AttributeDefinition>> {
    list(props, "attribute_definitions")
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(a.get("attribute_name").and_then(Value::as_str).unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(a.get("attribute_type").and_then(Value::as_str).unwrap_or_default()))
                .build()
                .map_err(invalid)
        })
        .collect()
}

fn list<'a>(props: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    props.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn throughput(props: &Map<String, Value>) -> Result<Option<ProvisionedThroughput>> {
    let Some(t) = props.get("provisioned_throughput").and_then(Value::as_object) else { return Ok(None) };
    ProvisionedThroughput::builder()
        .read_capacity_units(prop_i64(t, "read_capacity_units").unwrap_or(1))
        .write_capacity_units(prop_i64(t, "write_capacity_units").unwrap_or(1))
        .build()
        .map(Some)
        .map_err(invalid)
}

fn stream_spec(props: &Map<String, Value>) -> Result<Option<StreamSpecification>> {
    let Some(s) = props.get("stream_specification").and_then(Value::as_object) else { return Ok(None) };
    let mut b = StreamSpecification::builder().stream_enabled(s.get("stream_enabled").and_then(Value::as_bool).unwrap_or(false));
    if let Some(v) = prop_str(s, "stream_view_type") {
        b = b.stream_view_type(StreamViewType::from(v));
    }
    b.build().map(Some).map_err(invalid)
}

#[async_trait]
impl ResourceKind for Table {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "dynamodb:CreateTable",
            "dynamodb:DescribeTable",
            "dynamodb:UpdateTable",
            "dynamodb:DeleteTable",
            "dynamodb:ListTagsOfResource",
            "dynamodb:TagResource",
            "dynamodb:UntagResource",
        ]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.dynamodb(ctx.region()?).await;
        let name = prop_str(props, "table_name").unwrap_or(&ctx.name).to_string();
        let mut req = client.create_table().table_name(&name).set_attribute_definitions(Some(attribute_definitions(props)?));
        for k in list(props, "key_schema") {
            req = req.key_schema(
                KeySchemaElement::builder()
                    .attribute_name(k.get("attribute_name").and_then(Value::as_str).unwrap_or_default())
                    .key_type(KeyType::from(k.get("key_type").and_then(Value::as_str).unwrap_or_default()))
                    .build()
                    .map_err(invalid)?,
            );
        }
        // PROVISIONED needs ProvisionedThroughput, PAY_PER_REQUEST refuses it; with
        // neither given, on-demand is the one that works.
        // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
        let billing = prop_str(props, "billing_mode").unwrap_or(if props.contains_key("provisioned_throughput") {
            "PROVISIONED"
        } else {
            "PAY_PER_REQUEST"
        });
        req = req.billing_mode(BillingMode::from(billing));
        if let Some(t) = throughput(props)? {
            req = req.provisioned_throughput(t);
        }
        if let Some(s) = stream_spec(props)? {
            req = req.stream_specification(s);
        }
        for (k, v) in tags::desired(props) {
            req = req.tags(Tag::builder().key(k).value(v).build().map_err(invalid)?);
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) => {
                let e = classify("CreateTable", &name, e);
                // Table names are unique per account and region: finish what a crashed run started.
                if e.code.as_deref() != Some("ResourceInUseException") {
                    return Err(e);
                }
                ctx.report(format!("table {name} exists already (an earlier interrupted run?); adopting it"));
            }
        }
        ctx.made(&name).await;
        let partial = Observed { id: name.clone(), ..Default::default() };
        self.wait_active(ctx, &client, &name, true).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, &name)
            .await?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{name} vanished right after creation")).with_partial(partial))
    }

    /// Names are unique per account and region: an interrupted create's
    /// object is the one with its name.
    async fn find(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Found> {
        match prop_str(props, "table_name") {
            Some(name) => Ok(self.read(ctx, name).await?.into()),
            None => Ok(Found::CannotTell),
        }
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.dynamodb(ctx.region()?).await;
        let Some(d) = gone_is_none(client.describe_table().table_name(id).send().await.map_err(|e| classify("DescribeTable", id, e)))? else { return Ok(None) };
        let Some(t) = d.table() else { return Ok(None) };
        if t.table_status() == Some(&TableStatus::Deleting) {
            return Ok(None);
        }
        let name = t.table_name().unwrap_or(id).to_string();
        let mut p = Map::new();
        p.insert("table_name".into(), json!(name));
        p.insert(
            "attribute_definitions".into(),
            Value::Array(
                t.attribute_definitions()
                    .iter()
                    .map(|a| json!({"attribute_name": a.attribute_name(), "attribute_type": a.attribute_type().as_str()}))
                    .collect(),
            ),
        );
        p.insert(
            "key_schema".into(),
            Value::Array(
                t.key_schema().iter().map(|k| json!({"attribute_name": k.attribute_name(), "key_type": k.key_type().as_str()})).collect(),
            ),
        );
        let billing =
            t.billing_mode_summary().and_then(|b| b.billing_mode()).map(|b| b.as_str().to_string()).unwrap_or_else(|| "PROVISIONED".into());
        if billing == "PROVISIONED" {
            if let Some(pt) = t.provisioned_throughput() {
                p.insert(
                    "provisioned_throughput".into(),
                    json!({"read_capacity_units": pt.read_capacity_units(), "write_capacity_units": pt.write_capacity_units()}),
                );
            }
        }
        p.insert("billing_mode".into(), json!(billing));
        match t.stream_specification() {
            Some(s) => {
                let mut o = Map::new();
                o.insert("stream_enabled".into(), json!(s.stream_enabled()));
                if let Some(v) = s.stream_view_type() {
                    o.insert("stream_view_type".into(), json!(v.as_str()));
                }
                p.insert("stream_specification".into(), Value::Object(o));
            }
            None => {
                p.insert("stream_specification".into(), json!({"stream_enabled": false}));
            }
        }
        let arn = t.table_arn().unwrap_or_default().to_string();
        // DescribeTable has no tags: a second call, made only when the
        // caller compares them.
        if !arn.is_empty() && ctx.wants("tags") {
            let tg =
                client.list_tags_of_resource().resource_arn(&arn).send().await.map_err(|e| classify("ListTagsOfResource", &name, e))?;
            p.insert("tags".into(), tags::to_value(tg.tags().iter().map(|t| (t.key().to_string(), t.value().to_string()))));
        }
        let mut outputs = BTreeMap::new();
        outputs.insert("arn".into(), json!(arn));
        outputs.insert("name".into(), json!(name));
        outputs.insert("stream_arn".into(), json!(t.latest_stream_arn().unwrap_or_default()));
        Ok(Some(Observed { id: name, properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let client = self.aws.dynamodb(ctx.region()?).await;
        only_in_place(&format!("table {id}"), changed, &["billing_mode", "provisioned_throughput", "stream_specification", "tags"])?;
        let now = self
            .read(ctx, id)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("UpdateTable {id}: the table is gone; re-run plan to create it")))?;
        let has = |f: &str| changed.iter().any(|c| c == f);
        // UpdateTable does one kind of change per call (throughput/billing mode, or
        // streams, or an index), and the table must be ACTIVE again before the next.
        // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html
        if has("billing_mode") || has("provisioned_throughput") {
            let billing = prop_str(desired, "billing_mode").unwrap_or(if desired.contains_key("provisioned_throughput") {
                "PROVISIONED"
            } else {
                "PAY_PER_REQUEST"
            });
            let mut req = client.update_table().table_name(id);
            let mut any = false;
            if now.properties.get("billing_mode").and_then(Value::as_str) != Some(billing) {
                req = req.billing_mode(BillingMode::from(billing));
                any = true;
            }
            // Throughput goes with PROVISIONED only; PAY_PER_REQUEST refuses it.
            if billing == "PROVISIONED" {
                if let Some(t) = throughput(desired)? {
                    let current = now.properties.get("provisioned_throughput");
                    if any || current != desired.get("provisioned_throughput") {
                        req = req.provisioned_throughput(t);
                        any = true;
                    }
                } else if any {
                    return Err(ProviderError::invalid(format!("table {id}: billing_mode PROVISIONED needs provisioned_throughput")));
                }
            }
            if any {
                req.send().await.map_err(|e| classify("UpdateTable", id, e))?;
                self.wait_active(ctx, &client, id, false).await?;
            }
        }
        if has("stream_specification") {
            let want = stream_spec(desired)?;
            let want_enabled = want.as_ref().is_some_and(|s| s.stream_enabled());
            let now_spec = now.properties.get("stream_specification");
            let now_enabled = now_spec.and_then(|s| s.get("stream_enabled")).and_then(Value::as_bool).unwrap_or(false);
            let now_view = now_spec.and_then(|s| s.get("stream_view_type")).and_then(Value::as_str);
            let want_view = want.as_ref().and_then(|s| s.stream_view_type()).map(|v| v.as_str());
            // An enabled stream's view type cannot be changed: disable it, then
            // enable it with the new view type (a new stream, a new stream ARN).
            if now_enabled && (!want_enabled || want_view != now_view) {
                let off = StreamSpecification::builder().stream_enabled(false).build().map_err(invalid)?;
                client.update_table().table_name(id).stream_specification(off).send().await.map_err(|e| classify("UpdateTable", id, e))?;
                self.wait_active(ctx, &client, id, false).await?;
            }
            if want_enabled && (!now_enabled || want_view != now_view) {
                if let Some(spec) = want {
                    client
                        .update_table()
                        .table_name(id)
                        .stream_specification(spec)
                        .send()
                        .await
                        .map_err(|e| classify("UpdateTable", id, e))?;
                    self.wait_active(ctx, &client, id, false).await?;
                }
            }
        }
        if changed.iter().any(|f| f == "tags") {
            // TagResource / UntagResource take the table ARN.
            // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TagResource.html
            let arn = now.outputs.get("arn").and_then(Value::as_str).unwrap_or_default();
            let (set, remove) = tags::delta(&tandem_provider::prop_tags(&now.properties, "tags"), &tags::desired(desired));
            if !set.is_empty() {
                let mut req = client.tag_resource().resource_arn(arn);
                for (k, v) in set {
                    req = req.tags(Tag::builder().key(k).value(v).build().map_err(invalid)?);
                }
                req.send().await.map_err(|e| classify("TagResource", id, e))?;
            }
            if !remove.is_empty() {
                client
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(remove))
                    .send()
                    .await
                    .map_err(|e| classify("UntagResource", id, e))?;
            }
        }
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("{id} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.dynamodb(ctx.region()?).await;
        let delete = async { client.delete_table().table_name(id).send().await.map_err(|e| classify("DeleteTable", id, e)) };
        delete_and_wait(ctx, "table deletion", delete, || async {
            let d = client.describe_table().table_name(id).send().await.map_err(|e| classify("DescribeTable", id, e))?;
            Ok(Some(d.table().and_then(|t| t.table_status()).map(|s| s.as_str().to_string()).unwrap_or_default()))
        })
        .await
    }
}
