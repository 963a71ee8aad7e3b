//! `aws.cloudwatch.dashboard`: a dashboard (PutDashboard / GetDashboard /
//! DeleteDashboards). The body is written in the spec as a mapping and sent
//! as the JSON the API takes; reads parse it back, so formatting is never drift.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html

use crate::{classify, AwsContext};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{gone_is_none, prop_str, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Dashboard {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Dashboard {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.cloudwatch.dashboard",
            doc: "A CloudWatch dashboard. Dashboards are global to the account; `region` is where the API is called.",
            api_reference: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
            regional: true,
            properties: vec![
                Field::new("dashboard_name", Type::String)
                    .required()
                    .force_new()
                    .check(Check::Length(1, 255))
                    .doc("DashboardName; defaults to the resource key."),
                Field::new("dashboard_body", Type::Any).required().doc("DashboardBody, as a mapping with a `widgets` list (sent as JSON)."),
            ],
            outputs: vec![OutputDef::new("arn", "The dashboard ARN."), OutputDef::new("name", "The dashboard name.")],
            name_field: Some("dashboard_name"),
            import_id: "the dashboard name",
        };
        Dashboard { aws, schema }
    }

    async fn put(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<String> {
        let client = self.aws.cloudwatch(ctx.region()?).await;
        let name = prop_str(props, "dashboard_name").unwrap_or(&ctx.name).to_string();
        let body = match props.get("dashboard_body") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => return Err(ProviderError::invalid("dashboard_body is required")),
        };
        client.put_dashboard().dashboard_name(&name).dashboard_body(body).send().await.map_err(|e| classify("PutDashboard", &name, e))?;
        Ok(name)
    }
}

#[async_trait]
impl ResourceKind for Dashboard {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"]
    }

    // PutDashboard: the body is a JSON object with a `widgets` array.
    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let body = match props.get("dashboard_body") {
            Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok(),
            Some(Value::Null) | None => return vec![],
            Some(v) => Some(v.clone()),
        };
        match body {
            Some(b) if b.get("widgets").is_some_and(Value::is_array) => vec![],
            _ => vec![Invalid::new("dashboard_body", "dashboard_body must be a mapping (or JSON text) with a `widgets` list")],
        }
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let name = self.put(ctx, props).await?;
        self.read(ctx, &name)
            .await?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("dashboard {name} is not visible after PutDashboard")))
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.cloudwatch(ctx.region()?).await;
        let Some(d) = gone_is_none(client.get_dashboard().dashboard_name(id).send().await.map_err(|e| classify("GetDashboard", id, e)))? else { return Ok(None) };
        let mut p = Map::new();
        p.insert("dashboard_name".into(), json!(id));
        if let Some(body) = d.dashboard_body() {
            p.insert("dashboard_body".into(), serde_json::from_str(body).unwrap_or_else(|_| json!(body)));
        }
        let mut outputs = BTreeMap::new();
        outputs.insert("arn".into(), json!(d.dashboard_arn().unwrap_or_default()));
        outputs.insert("name".into(), json!(id));
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        _changed: &[String],
    ) -> Result<Observed> {
        self.put(ctx, desired).await?;
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("dashboard {id} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.cloudwatch(ctx.region()?).await;
        match client.delete_dashboards().dashboard_names(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = classify("DeleteDashboards", id, e);
                if e.class == ErrorClass::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
