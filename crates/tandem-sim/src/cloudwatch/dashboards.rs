//! Dashboards, per account: PutDashboard (with its body checks), GetDashboard,
//! DeleteDashboards, ListDashboards.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html

use super::*;

pub(super) fn dashboard_arn(account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch::{account}:dashboard/{name}")
}

pub(super) fn invalid_input(message: &str, messages: Vec<(&str, &str)>) -> CwError {
    CwError {
        error: ApiError::new(400, "InvalidParameterInput", message),
        extra: vec![(
            "dashboardValidationMessages".to_string(),
            Cbor::Array(messages.into_iter().map(|(p, m)| map(vec![("DataPath", text(p)), ("Message", text(m))])).collect()),
        )],
    }
}

/// The dashboard body structure rules that tandem's dashboards touch: a JSON
/// object with a `widgets` array of objects, each with a `type` and
/// `properties` (except `type: text`, which needs `properties.markdown`).
pub(super) fn validate_dashboard_body(body: &str) -> Vec<(&'static str, &'static str)> {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return vec![("/", "The dashboard body is not valid JSON")],
    };
    let Some(o) = v.as_object() else { return vec![("/", "Should be of type object")] };
    let Some(widgets) = o.get("widgets") else { return vec![("/", "Should have required property 'widgets'")] };
    let Some(widgets) = widgets.as_array() else { return vec![("/widgets", "Should be of type array")] };
    let mut out = Vec::new();
    for w in widgets {
        let Some(w) = w.as_object() else {
            out.push(("/widgets", "Each widget should be of type object"));
            continue;
        };
        match w.get("type").and_then(Value::as_str) {
            None => out.push(("/widgets", "Each widget should have required property 'type'")),
            Some("text") => {
                if w.get("properties").and_then(|p| p.get("markdown")).is_none() {
                    out.push(("/widgets", "A text widget should have required property 'properties.markdown'"));
                }
            }
            Some(_) => {
                if !w.get("properties").is_some_and(Value::is_object) {
                    out.push(("/widgets", "Each widget should have required property 'properties'"));
                }
            }
        }
    }
    out
}

impl CloudWatch {
    pub(super) fn put_dashboard(&mut self, account: &str, input: &Value, now: f64) -> Result<Cbor, CwError> {
        let name = opt_str(input, "DashboardName")?.ok_or_else(|| required("dashboardName"))?;
        let body = opt_str(input, "DashboardBody")?.ok_or_else(|| required("dashboardBody"))?;
        if name.is_empty() || name.len() > 255 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid_input(
                "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).",
                vec![("/DashboardName", "Must be 1-255 characters of alphanumerics, dash (-) and underscore (_)")],
            ));
        }
        let messages = validate_dashboard_body(body);
        if !messages.is_empty() {
            let n = messages.len();
            return Err(invalid_input(&format!("The dashboard body is invalid, there are {n} validation errors"), messages));
        }
        self.dashboards.insert((account.to_string(), name.to_string()), Dashboard { body: body.to_string(), modified: now });
        Ok(map(vec![("DashboardValidationMessages", Cbor::Array(vec![]))]))
    }

    pub(super) fn get_dashboard(&mut self, account: &str, input: &Value) -> Result<Cbor, CwError> {
        let name = opt_str(input, "DashboardName")?.ok_or_else(|| required("dashboardName"))?;
        let d = self
            .dashboards
            .get(&(account.to_string(), name.to_string()))
            .ok_or_else(|| not_found(format!("Dashboard {name} does not exist")))?;
        Ok(map(vec![
            ("DashboardArn", text(&dashboard_arn(account, name))),
            ("DashboardBody", text(&d.body)),
            ("DashboardName", text(name)),
        ]))
    }

    pub(super) fn delete_dashboards(&mut self, account: &str, input: &Value) -> Result<Cbor, CwError> {
        if input.get("DashboardNames").is_none() {
            return Err(required("dashboardNames"));
        }
        let names = str_list(input, "DashboardNames")?;
        // All or nothing, as for DeleteAlarms.
        if let Some(unknown) = names.iter().find(|n| !self.dashboards.contains_key(&(account.to_string(), (*n).clone()))) {
            return Err(not_found(format!("Dashboard {unknown} does not exist")));
        }
        for n in &names {
            self.dashboards.remove(&(account.to_string(), n.clone()));
        }
        Ok(map(vec![]))
    }

    pub(super) fn list_dashboards(&mut self, account: &str, input: &Value) -> Result<Cbor, CwError> {
        let prefix = opt_str(input, "DashboardNamePrefix")?.unwrap_or("");
        let entries: Vec<Cbor> = self
            .dashboards
            .iter()
            .filter(|((a, n), _)| a == account && n.starts_with(prefix))
            .map(|((_, n), d)| {
                map(vec![
                    ("DashboardName", text(n)),
                    ("DashboardArn", text(&dashboard_arn(account, n))),
                    ("LastModified", ts(d.modified)),
                    ("Size", int(d.body.len() as i64)),
                ])
            })
            .collect();
        Ok(map(vec![("DashboardEntries", Cbor::Array(entries))]))
    }
}
