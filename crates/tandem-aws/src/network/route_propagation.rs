//! `aws.ec2.vpn_gateway_route_propagation`: a virtual private gateway
//! propagating the routes it learns (BGP over VPN or Direct Connect) into a
//! route table (EC2 EnableVgwRoutePropagation / DisableVgwRoutePropagation;
//! read through DescribeRouteTables `PropagatingVgws`).
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableVgwRoutePropagation.html
//!
//! The id is `ROUTE_TABLE_ID/GATEWAY_ID`. Enabling is idempotent, so a re-run
//! after a crash simply enables again.

use super::vpn_gateway::gone_is_none;
use crate::{classify, AwsContext};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    prop_str, wait_until, Ctx, ErrorClass, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter,
};
use tandem_schema::{Field, OutputDef, Type};

pub struct RoutePropagation {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

fn split_id(id: &str) -> Result<(&str, &str)> {
    id.split_once('/')
        .filter(|(r, g)| r.starts_with("rtb-") && g.starts_with("vgw-"))
        .ok_or_else(|| ProviderError::invalid(format!("{id:?} is not ROUTE_TABLE_ID/GATEWAY_ID (rtb-.../vgw-...)")))
}

impl RoutePropagation {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.ec2.vpn_gateway_route_propagation",
            doc: "Route propagation from a virtual private gateway into a route table: routes learned over BGP (VPN tunnels, Direct Connect) appear in the table.",
            api_reference: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableVgwRoutePropagation.html",
            regional: true,
            properties: vec![
                Field::new("route_table_id", Type::String).required().force_new().carries_traffic().doc("RouteTableId."),
                Field::new("gateway_id", Type::String).required().force_new().refers_to(&["aws.ec2.vpn_gateway"]).carries_traffic().doc("GatewayId: the virtual private gateway (attached to the route table's VPC)."),
            ],
            outputs: vec![OutputDef::new("id", "ROUTE_TABLE_ID/GATEWAY_ID.")],
            name_field: None,
            import_id: "ROUTE_TABLE_ID/GATEWAY_ID (rtb-.../vgw-...)",
        };
        RoutePropagation { aws, schema }
    }

    /// Is `gateway` among the table's propagating gateways? `None` when the table is gone.
    async fn propagating(client: &aws_sdk_ec2::Client, table: &str, gateway: &str) -> Result<Option<bool>> {
        let out = gone_is_none(
            client.describe_route_tables().route_table_ids(table).send().await.map_err(|e| classify("DescribeRouteTables", table, e)),
        )?;
        Ok(out.and_then(|o| o.route_tables().first().map(|t| t.propagating_vgws().iter().any(|v| v.gateway_id() == Some(gateway)))))
    }

    async fn wait_for(ctx: &Ctx, client: &aws_sdk_ec2::Client, table: &str, gateway: &str, want: bool) -> Result<()> {
        wait_until(ctx, &format!("propagation of {gateway} into {table}"), Waiter::default(), || async {
            Ok(match Self::propagating(client, table, gateway).await? {
                Some(p) if p == want => WaitOutcome::Ready(()),
                None if !want => WaitOutcome::Ready(()),
                None => WaitOutcome::Failed(format!("route table {table} is gone")),
                Some(_) => WaitOutcome::Pending(if want { "not propagating yet" } else { "still propagating" }.into()),
            })
        })
        .await
    }
}

#[async_trait]
impl ResourceKind for RoutePropagation {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ec2:EnableVgwRoutePropagation", "ec2:DisableVgwRoutePropagation", "ec2:DescribeRouteTables"]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.ec2(ctx.region()?).await;
        let table = prop_str(props, "route_table_id").ok_or_else(|| ProviderError::invalid("route_table_id is required"))?;
        let gateway = prop_str(props, "gateway_id").ok_or_else(|| ProviderError::invalid("gateway_id is required"))?;
        let id = format!("{table}/{gateway}");
        client
            .enable_vgw_route_propagation()
            .route_table_id(table)
            .gateway_id(gateway)
            .send()
            .await
            .map_err(|e| classify("EnableVgwRoutePropagation", &id, e))?;
        Self::wait_for(ctx, &client, table, gateway, true)
            .await
            .map_err(|e| e.with_partial(Observed { id: id.clone(), ..Default::default() }))?;
        self.read(ctx, &id).await?.ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{id} vanished right after creation")))
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let (table, gateway) = split_id(id)?;
        let client = self.aws.ec2(ctx.region()?).await;
        if Self::propagating(&client, table, gateway).await? != Some(true) {
            return Ok(None);
        }
        let mut p = Map::new();
        p.insert("route_table_id".into(), json!(table));
        p.insert("gateway_id".into(), json!(gateway));
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(id));
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        _ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        _desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        // Both fields force a replacement: there is nothing to change in place.
        Err(ProviderError::invalid(format!("{} of {id} cannot be changed in place", changed.join(", "))))
    }

    /// DisableVgwRoutePropagation; a table or gateway already gone means done.
    /// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisableVgwRoutePropagation.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let (table, gateway) = split_id(id)?;
        let client = self.aws.ec2(ctx.region()?).await;
        if let Err(e) = client.disable_vgw_route_propagation().route_table_id(table).gateway_id(gateway).send().await {
            let e = classify("DisableVgwRoutePropagation", id, e);
            if e.class == ErrorClass::NotFound {
                return Ok(());
            }
            return Err(e);
        }
        Self::wait_for(ctx, &client, table, gateway, false).await
    }
}
