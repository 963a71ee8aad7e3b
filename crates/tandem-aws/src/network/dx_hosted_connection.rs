//! `aws.directconnect.hosted_connection_confirmation`: accepting the hosted
//! connection a partner (for GCP Partner Interconnect, the partner the
//! attachment's pairing key went to) provisioned for this account
//! (ConfirmConnection; read with DescribeConnections).
//! https://docs.aws.amazon.com/directconnect/latest/APIReference/API_ConfirmConnection.html
//!
//! The connection itself belongs to the partner: tandem neither creates nor
//! deletes it. Deleting this resource therefore changes nothing in AWS (there
//! is no "unconfirm"); it only stops tandem from tracking the confirmation.

use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_directconnect::types::{Connection, ConnectionState as State};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    gone_is_none, prop_str, wait_until, Ctx, ErrorClass, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter,
};
use tandem_schema::{Field, OutputDef, Type};

pub struct DxHostedConnectionConfirmation {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

fn gone(c: &Connection) -> bool {
    matches!(c.connection_state(), Some(State::Deleted | State::Rejected))
}

impl DxHostedConnectionConfirmation {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.directconnect.hosted_connection_confirmation",
            doc: "Confirms a hosted Direct Connect connection a partner provisioned for this account (ordering -> available). Deleting it does nothing in AWS: the partner owns the connection and a confirmation cannot be undone.",
            api_reference: "https://docs.aws.amazon.com/directconnect/latest/APIReference/API_ConfirmConnection.html",
            regional: true,
            properties: vec![Field::new("connection_id", Type::String).required().force_new().doc("connectionId: the hosted connection (dxcon-...), usually a variable.")],
            outputs: vec![
                OutputDef::new("id", "The connection id (dxcon-...)."),
                OutputDef::new("vlan", "The VLAN the partner assigned (the private virtual interface's vlan)."),
                OutputDef::new("bandwidth", "The connection's bandwidth (e.g. 1Gbps)."),
                OutputDef::new("location", "The Direct Connect location."),
            ],
            name_field: None,
            import_id: "the connection id (dxcon-...)",
        };
        DxHostedConnectionConfirmation { aws, schema }
    }

    async fn describe(client: &aws_sdk_directconnect::Client, id: &str) -> Result<Option<Connection>> {
        let out =
            gone_is_none(client.describe_connections().connection_id(id).send().await.map_err(|e| classify("DescribeConnections", id, e)))?;
        Ok(out.and_then(|o| o.connections().iter().find(|c| c.connection_id() == Some(id)).cloned()).filter(|c| !gone(c)))
    }
}

#[async_trait]
impl ResourceKind for DxHostedConnectionConfirmation {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["directconnect:DescribeConnections", "directconnect:ConfirmConnection"]
    }

    /// ConfirmConnection applies to a connection in state `ordering`; one
    /// already confirmed (pending, available) is only waited for, so a re-run
    /// is harmless.
    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.directconnect(ctx.region()?).await;
        let id = prop_str(props, "connection_id").ok_or_else(|| ProviderError::invalid("connection_id is required"))?.to_string();
        let conn = Self::describe(&client, &id).await?.ok_or_else(|| {
            ProviderError::not_found(format!(
                "hosted connection {id} does not exist in {} (has the partner provisioned it for this account?)",
                ctx.region().unwrap_or_default()
            ))
        })?;
        if conn.connection_state() == Some(&State::Ordering) {
            client.confirm_connection().connection_id(&id).send().await.map_err(|e| classify("ConfirmConnection", &id, e))?;
        }
        wait_until(ctx, "hosted connection", Waiter::default(), || async {
            Ok(match Self::describe(&client, &id).await?.as_ref().and_then(|c| c.connection_state()) {
                Some(State::Available) => WaitOutcome::Ready(()),
                Some(State::Deleting) => WaitOutcome::Failed("deleting".into()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Failed("deleted or rejected".into()),
            })
        })
        .await?;
        self.read(ctx, &id).await?.ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{id} vanished right after confirmation")))
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.directconnect(ctx.region()?).await;
        let Some(c) = Self::describe(&client, id).await? else { return Ok(None) };
        // Not confirmed (still ordering) means this resource does not exist yet.
        if c.connection_state() == Some(&State::Ordering) {
            return Ok(None);
        }
        let mut p = Map::new();
        p.insert("connection_id".into(), json!(id));
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(id));
        outputs.insert("vlan".into(), json!(c.vlan()));
        if let Some(b) = c.bandwidth() {
            outputs.insert("bandwidth".into(), json!(b));
        }
        if let Some(l) = c.location() {
            outputs.insert("location".into(), json!(l));
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
        Err(ProviderError::invalid(format!("{} of {id} cannot be changed in place", changed.join(", "))))
    }

    /// Nothing to undo: a confirmation cannot be withdrawn and the connection
    /// is the partner's to delete.
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        ctx.report(format!("{id} stays: the partner owns hosted connections, and a confirmation cannot be undone"));
        Ok(())
    }
}
