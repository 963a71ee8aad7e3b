//! Hosted connections: DescribeConnections, ConfirmConnection, and their JSON shape.

use super::*;

pub(super) fn conn_json(c: &Connection, state: &str) -> Value {
    let mut m = Map::new();
    m.insert("ownerAccount".into(), json!(c.owner));
    m.insert("connectionId".into(), json!(c.id));
    m.insert("connectionName".into(), json!(c.name));
    m.insert("connectionState".into(), json!(state));
    m.insert("region".into(), json!(c.region));
    m.insert("location".into(), json!(c.location));
    m.insert("bandwidth".into(), json!(c.bandwidth));
    if let Some(vlan) = c.vlan {
        m.insert("vlan".into(), json!(vlan));
    }
    if let Some(p) = &c.partner_name {
        m.insert("partnerName".into(), json!(p));
    }
    m.insert("awsDevice".into(), json!(c.aws_device));
    m.insert("awsDeviceV2".into(), json!(c.aws_device));
    m.insert("awsLogicalDeviceId".into(), json!(c.aws_device));
    m.insert("jumboFrameCapable".into(), json!(true));
    m.insert("hasLogicalRedundancy".into(), json!("no"));
    m.insert("macSecCapable".into(), json!(false));
    m.insert("tags".into(), c.tags.clone());
    Value::Object(m)
}

impl DirectConnect {
    pub(super) fn visible(c: &Connection, env: &SimEnv) -> bool {
        c.owner == env.account && c.region == env.region
    }

    pub(super) fn describe_connections(&self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = opt_str(input, "connectionId")?;
        let list: Vec<Value> = self
            .connections
            .iter()
            .filter(|c| Self::visible(c, env) && id.is_none_or(|id| c.id == id))
            .map(|c| conn_json(c, c.phase.state(env.now)))
            .collect();
        if let (Some(id), true) = (id, list.is_empty()) {
            return Err(client_err(format!("Connection {id} does not exist")));
        }
        Ok(json!({ "connections": list }))
    }

    /// API_ConfirmConnection: "Upon creation, the hosted connection is
    /// initially in the Ordering state, and remains in this state until the
    /// owner confirms creation of the hosted connection." Confirmed, it is
    /// `pending` ("approved and is being initialized") and then `available`.
    pub(super) fn confirm_connection(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = req_str(input, "connectionId")?;
        let conn = self
            .connections
            .iter_mut()
            .find(|c| c.id == id && c.owner == env.account && c.region == env.region)
            .ok_or_else(|| client_err(format!("Connection {id} does not exist")))?;
        let state = conn.phase.state(env.now);
        if state != "ordering" {
            return Err(client_err(format!("Connection {id} is in state {state}; only a connection in state ordering can be confirmed")));
        }
        conn.phase = Phase::new("pending", "available", env.ready_at(SERVICE, "connection"));
        Ok(json!({ "connectionState": "pending" }))
    }
}
