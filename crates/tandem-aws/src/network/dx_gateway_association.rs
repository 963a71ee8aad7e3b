//! `aws.directconnect.gateway_association`: a virtual private gateway
//! associated with a Direct Connect gateway
//! (CreateDirectConnectGatewayAssociation /
//! DescribeDirectConnectGatewayAssociations /
//! DeleteDirectConnectGatewayAssociation).
//! https://docs.aws.amazon.com/directconnect/latest/APIReference/API_CreateDirectConnectGatewayAssociation.html

use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_directconnect::types::{DirectConnectGatewayAssociation as SdkAssociation, DirectConnectGatewayAssociationState as State};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    gone_is_none, prop_str, wait_until, Ctx, ErrorClass, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter,
};
use tandem_schema::{Field, OutputDef, Type};

pub struct DxGatewayAssociation {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

fn live(a: &SdkAssociation) -> bool {
    !matches!(a.association_state(), Some(State::Disassociated))
}

impl DxGatewayAssociation {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.directconnect.gateway_association",
            doc: "The association of a virtual private gateway (attached to a VPC) with a Direct Connect gateway.",
            api_reference: "https://docs.aws.amazon.com/directconnect/latest/APIReference/API_CreateDirectConnectGatewayAssociation.html",
            regional: true,
            properties: vec![
                Field::new("direct_connect_gateway_id", Type::String).required().force_new().refers_to(&["aws.directconnect.gateway"]).carries_traffic().doc("directConnectGatewayId."),
                Field::new("virtual_gateway_id", Type::String).required().force_new().refers_to(&["aws.ec2.vpn_gateway"]).carries_traffic().doc("virtualGatewayId: the virtual private gateway, attached to a VPC and not associated with another Direct Connect gateway."),
            ],
            outputs: vec![OutputDef::new("id", "The association id.")],
            name_field: None,
            import_id: "the association id",
        };
        DxGatewayAssociation { aws, schema }
    }

    async fn by_id(client: &aws_sdk_directconnect::Client, id: &str) -> Result<Option<SdkAssociation>> {
        let out = gone_is_none(
            client
                .describe_direct_connect_gateway_associations()
                .association_id(id)
                .send()
                .await
                .map_err(|e| classify("DescribeDirectConnectGatewayAssociations", id, e)),
        )?;
        Ok(out.and_then(|o| o.direct_connect_gateway_associations().iter().find(|a| a.association_id() == Some(id)).cloned()).filter(live))
    }
}

#[async_trait]
impl ResourceKind for DxGatewayAssociation {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "directconnect:CreateDirectConnectGatewayAssociation",
            "directconnect:DescribeDirectConnectGatewayAssociations",
            "directconnect:DeleteDirectConnectGatewayAssociation",
        ]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.directconnect(ctx.region()?).await;
        let gw =
            prop_str(props, "direct_connect_gateway_id").ok_or_else(|| ProviderError::invalid("direct_connect_gateway_id is required"))?;
        let vgw = prop_str(props, "virtual_gateway_id").ok_or_else(|| ProviderError::invalid("virtual_gateway_id is required"))?;
        let what = format!("{vgw} with {gw}");
        // A virtual private gateway has at most one association: the one a
        // crashed run made is found by the pair.
        let existing = client
            .describe_direct_connect_gateway_associations()
            .direct_connect_gateway_id(gw)
            .virtual_gateway_id(vgw)
            .send()
            .await
            .map_err(|e| classify("DescribeDirectConnectGatewayAssociations", &what, e))?;
        let found = existing
            .direct_connect_gateway_associations()
            .iter()
            .filter(|a| live(a) && a.association_state() != Some(&State::Disassociating))
            .find_map(|a| a.association_id());
        let id = match found {
            Some(id) => {
                ctx.report(format!("found association {id} from an earlier interrupted run"));
                id.to_string()
            }
            None => {
                let out = client
                    .create_direct_connect_gateway_association()
                    .direct_connect_gateway_id(gw)
                    .virtual_gateway_id(vgw)
                    .send()
                    .await
                    .map_err(|e| classify("CreateDirectConnectGatewayAssociation", &what, e))?;
                out.direct_connect_gateway_association()
                    .and_then(|a| a.association_id())
                    .ok_or_else(|| {
                        ProviderError::new(ErrorClass::Other, "CreateDirectConnectGatewayAssociation returned no association id")
                    })?
                    .to_string()
            }
        };
        ctx.made(&id).await;
        let partial = Observed { id: id.clone(), ..Default::default() };
        let wait = wait_until(ctx, "Direct Connect gateway association", Waiter::default(), || async {
            Ok(match Self::by_id(&client, &id).await?.as_ref().and_then(|a| a.association_state()) {
                Some(State::Associated) => WaitOutcome::Ready(()),
                Some(State::Disassociating) => WaitOutcome::Failed("disassociating".into()),
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
        let Some(a) = Self::by_id(&client, id).await? else { return Ok(None) };
        let mut p = Map::new();
        if let Some(g) = a.direct_connect_gateway_id() {
            p.insert("direct_connect_gateway_id".into(), json!(g));
        }
        if let Some(v) = a.virtual_gateway_id().or_else(|| a.associated_gateway().and_then(|g| g.id())) {
            p.insert("virtual_gateway_id".into(), json!(v));
        }
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
        Err(ProviderError::invalid(format!("{} of {id} cannot be changed in place", changed.join(", "))))
    }

    /// DeleteDirectConnectGatewayAssociation by associationId; the state goes
    /// disassociating -> disassociated.
    /// https://docs.aws.amazon.com/directconnect/latest/APIReference/API_DeleteDirectConnectGatewayAssociation.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.directconnect(ctx.region()?).await;
        match Self::by_id(&client, id).await? {
            None => return Ok(()),
            Some(a) if a.association_state() == Some(&State::Disassociating) => {}
            Some(_) => {
                if let Err(e) = client.delete_direct_connect_gateway_association().association_id(id).send().await {
                    let e = classify("DeleteDirectConnectGatewayAssociation", id, e);
                    if e.class == ErrorClass::NotFound {
                        return Ok(());
                    }
                    return Err(e);
                }
            }
        }
        wait_until(ctx, "Direct Connect gateway disassociation", Waiter::default(), || async {
            Ok(match Self::by_id(&client, id).await? {
                None => WaitOutcome::Ready(()),
                Some(a) => {
                    WaitOutcome::Pending(a.association_state().map(|s| s.as_str().to_string()).unwrap_or_else(|| "disassociating".into()))
                }
            })
        })
        .await
    }
}
