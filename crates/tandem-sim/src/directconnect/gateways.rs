//! Direct Connect gateways: create, describe, delete, and their JSON shape.

use super::*;

pub(super) fn gateway_json(g: &Gateway, state: &str) -> Value {
    json!({
        "directConnectGatewayId": g.id,
        "directConnectGatewayName": g.name,
        "amazonSideAsn": g.asn,
        "ownerAccount": g.owner,
        "directConnectGatewayState": state,
        "tags": g.tags,
    })
}

impl DirectConnect {
    pub(super) fn gateway(&self, id: &str, now: Instant) -> Option<&Gateway> {
        self.gateways.iter().find(|g| g.id == id && !g.phase.expired(now, &["deleted"], RETENTION))
    }

    /// API_CreateDirectConnectGateway: amazonSideAsn "must be in the private
    /// range of 64,512 to 65,534 or 4,200,000,000 to 4,294,967,294. The
    /// default is 64512."
    pub(super) fn create_gateway(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let name = req_str(input, "directConnectGatewayName")?;
        if name.len() > 100 {
            return Err(client_err("directConnectGatewayName must be at most 100 characters"));
        }
        let asn = opt_int(input, "amazonSideAsn")?.unwrap_or(64512);
        if !((64512..=65534).contains(&asn) || (4_200_000_000..=4_294_967_294).contains(&asn)) {
            return Err(client_err(format!(
                "amazonSideAsn {asn} is not valid: it must be in the private range 64512-65534 or 4200000000-4294967294"
            )));
        }
        let gw = Gateway {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            asn,
            owner: env.account.to_string(),
            phase: Phase::new("pending", "available", env.ready_at(SERVICE, "gateway")),
            tags: tags_of(input)?,
        };
        let out = gateway_json(&gw, "pending");
        self.gateways.push(gw);
        Ok(json!({ "directConnectGateway": out }))
    }

    pub(super) fn describe_gateways(&self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = opt_str(input, "directConnectGatewayId")?;
        let list: Vec<Value> = self
            .gateways
            .iter()
            .filter(|g| g.owner == env.account && !g.phase.expired(env.now, &["deleted"], RETENTION))
            .filter(|g| id.is_none_or(|id| g.id == id))
            .map(|g| gateway_json(g, g.phase.state(env.now)))
            .collect();
        if let (Some(id), true) = (id, list.is_empty()) {
            return Err(client_err(format!("Direct Connect gateway {id} does not exist")));
        }
        Ok(json!({ "directConnectGateways": list }))
    }

    /// API_DeleteDirectConnectGateway: "You must first delete all virtual
    /// interfaces that are attached to the Direct Connect gateway and
    /// disassociate all virtual private gateways associated with the Direct
    /// Connect gateway."
    pub(super) fn delete_gateway(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = req_str(input, "directConnectGatewayId")?;
        let now = env.now;
        let gw = self
            .gateway(id, now)
            .filter(|g| g.owner == env.account)
            .ok_or_else(|| client_err(format!("Direct Connect gateway {id} does not exist")))?;
        let state = gw.phase.state(now);
        if state == "deleting" || state == "deleted" {
            return Err(client_err(format!("Direct Connect gateway {id} is in state {state}")));
        }
        if let Some(a) = self.associations.iter().find(|a| a.gateway_id == id && a.phase.state(now) != "disassociated") {
            return Err(client_err(format!(
                "Direct Connect gateway {id} is associated with {} ({}): disassociate it first",
                a.vgw_id,
                a.phase.state(now)
            )));
        }
        if let Some(v) =
            self.vifs.iter().find(|v| v.gateway_id.as_deref() == Some(id) && !matches!(v.phase.state(now), "deleted" | "rejected"))
        {
            return Err(client_err(format!("Direct Connect gateway {id} has virtual interface {} attached: delete it first", v.id)));
        }
        let gone = env.gone_at(SERVICE, "gateway");
        let gw = self.gateways.iter_mut().find(|g| g.id == id).expect("found above");
        gw.phase = Phase::new("deleting", "deleted", gone);
        Ok(json!({ "directConnectGateway": gateway_json(gw, "deleting") }))
    }
}
