//! `aws.directconnect.gateway`: a Direct Connect gateway, the global object
//! that joins private virtual interfaces to virtual private gateways
//! (CreateDirectConnectGateway / DescribeDirectConnectGateways /
//! DeleteDirectConnectGateway).
//! https://docs.aws.amazon.com/directconnect/latest/APIReference/API_CreateDirectConnectGateway.html

use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_directconnect::types::{DirectConnectGateway as SdkGateway, DirectConnectGatewayState};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::private_asn;
use tandem_provider::{
    gone_is_none, prop_i64, prop_str, wait_until, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result,
    WaitOutcome, Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct DxGateway {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl DxGateway {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.directconnect.gateway",
            doc: "A Direct Connect gateway: private virtual interfaces (e.g. on a partner's hosted connection to GCP Partner Interconnect) reach the VPCs of the virtual private gateways associated with it.",
            api_reference: "https://docs.aws.amazon.com/directconnect/latest/APIReference/API_CreateDirectConnectGateway.html",
            regional: true,
            properties: vec![
                Field::new("direct_connect_gateway_name", Type::String).required().force_new().check(Check::Length(1, 100)).doc("directConnectGatewayName (defaults to the resource key)."),
                Field::new("amazon_side_asn", Type::Integer).force_new().computed().check(Check::DistinctAsn).doc("amazonSideAsn: a private ASN, 64512-65534 or 4200000000-4294967294 (default 64512)."),
            ],
            outputs: vec![
                OutputDef::new("id", "The Direct Connect gateway id (a UUID)."),
                OutputDef::new("amazon_side_asn", "The ASN of the Amazon side of BGP sessions."),
            ],
            name_field: Some("direct_connect_gateway_name"),
            import_id: "the Direct Connect gateway id",
        };
        DxGateway { aws, schema }
    }

    async fn describe(client: &aws_sdk_directconnect::Client, id: &str) -> Result<Option<SdkGateway>> {
        let out = gone_is_none(
            client
                .describe_direct_connect_gateways()
                .direct_connect_gateway_id(id)
                .send()
                .await
                .map_err(|e| classify("DescribeDirectConnectGateways", id, e)),
        )?;
        Ok(out
            .and_then(|o| o.direct_connect_gateways().first().cloned())
            .filter(|g| g.direct_connect_gateway_state() != Some(&DirectConnectGatewayState::Deleted)))
    }
}

#[async_trait]
impl ResourceKind for DxGateway {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "directconnect:CreateDirectConnectGateway",
            "directconnect:DescribeDirectConnectGateways",
            "directconnect:DeleteDirectConnectGateway",
        ]
    }

    /// amazonSideAsn: "The autonomous system number (ASN) for Border Gateway
    /// Protocol (BGP) to be configured on the Amazon side of the connection.
    /// The ASN must be in the private range of 64,512 to 65,534 or
    /// 4,200,000,000 to 4,294,967,294."
    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        match prop_i64(props, "amazon_side_asn") {
            Some(asn) if !private_asn(asn) => {
                vec![Invalid::new("amazon_side_asn", format!("{asn} is not a private ASN: use 64512-65534 or 4200000000-4294967294"))]
            }
            _ => Vec::new(),
        }
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.directconnect(ctx.region()?).await;
        let name = prop_str(props, "direct_connect_gateway_name").unwrap_or(&ctx.name);
        // CreateDirectConnectGateway takes no client token and gateway names
        // need not be unique: a re-run adopts the one live gateway of this name
        // (what a crashed run made); with several it cannot tell, and says so.
        let all = client.describe_direct_connect_gateways().send().await.map_err(|e| classify("DescribeDirectConnectGateways", name, e))?;
        let same: Vec<&SdkGateway> = all
            .direct_connect_gateways()
            .iter()
            .filter(|g| g.direct_connect_gateway_name() == Some(name))
            .filter(|g| {
                matches!(g.direct_connect_gateway_state(), Some(DirectConnectGatewayState::Pending | DirectConnectGatewayState::Available))
            })
            .collect();
        let id = match same.as_slice() {
            [one] => {
                let id = one.direct_connect_gateway_id().unwrap_or_default().to_string();
                ctx.report(format!("found Direct Connect gateway {id} named {name} (from an earlier interrupted run)"));
                id
            }
            [] => {
                let mut req = client.create_direct_connect_gateway().direct_connect_gateway_name(name);
                if let Some(asn) = prop_i64(props, "amazon_side_asn") {
                    req = req.amazon_side_asn(asn);
                }
                let out = req.send().await.map_err(|e| classify("CreateDirectConnectGateway", name, e))?;
                out.direct_connect_gateway()
                    .and_then(|g| g.direct_connect_gateway_id())
                    .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreateDirectConnectGateway returned no id"))?
                    .to_string()
            }
            many => {
                return Err(ProviderError::new(
                    ErrorClass::Conflict,
                    format!(
                    "{} Direct Connect gateways are named {name}: import the right one with `tandem import {} ID`, or pick another name",
                    many.len(),
                    ctx.address
                ),
                ))
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        let wait = wait_until(ctx, "Direct Connect gateway", Waiter::default(), || async {
            Ok(match Self::describe(&client, &id).await?.as_ref().and_then(|g| g.direct_connect_gateway_state()) {
                Some(DirectConnectGatewayState::Available) => WaitOutcome::Ready(()),
                Some(DirectConnectGatewayState::Deleting) => WaitOutcome::Failed("deleting".into()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await;
        if let Err(e) = wait {
            return Err(e.with_partial(partial));
        }
        self.read(ctx, &id)
            .await
            .map_err(|e| e.with_partial(partial.clone()))?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{id} vanished right after creation")).with_partial(partial))
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.directconnect(ctx.region()?).await;
        let Some(g) = Self::describe(&client, id).await? else { return Ok(None) };
        let mut p = Map::new();
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(id));
        if let Some(n) = g.direct_connect_gateway_name() {
            p.insert("direct_connect_gateway_name".into(), json!(n));
        }
        if let Some(asn) = g.amazon_side_asn() {
            p.insert("amazon_side_asn".into(), json!(asn));
            outputs.insert("amazon_side_asn".into(), json!(asn));
        }
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
        // Every field forces a replacement.
        Err(ProviderError::invalid(format!("{} of {id} cannot be changed in place", changed.join(", "))))
    }

    /// "You must first delete all virtual interfaces that are attached to the
    /// Direct Connect gateway and disassociate all virtual private gateways";
    /// the gateway then goes deleting -> deleted.
    /// https://docs.aws.amazon.com/directconnect/latest/APIReference/API_DeleteDirectConnectGateway.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.directconnect(ctx.region()?).await;
        match Self::describe(&client, id).await? {
            None => return Ok(()),
            Some(g) if g.direct_connect_gateway_state() == Some(&DirectConnectGatewayState::Deleting) => {}
            Some(_) => {
                if let Err(e) = client.delete_direct_connect_gateway().direct_connect_gateway_id(id).send().await {
                    let e = classify("DeleteDirectConnectGateway", id, e);
                    if e.class == ErrorClass::NotFound {
                        return Ok(());
                    }
                    return Err(e);
                }
            }
        }
        wait_until(ctx, "Direct Connect gateway deletion", Waiter::default(), || async {
            Ok(match Self::describe(&client, id).await? {
                None => WaitOutcome::Ready(()),
                Some(g) => WaitOutcome::Pending(
                    g.direct_connect_gateway_state().map(|s| s.as_str().to_string()).unwrap_or_else(|| "deleting".into()),
                ),
            })
        })
        .await
    }
}
