//! Gateway associations (virtual private gateway <-> Direct Connect gateway).

use super::*;

pub(super) fn association_json(a: &Association, state: &str) -> Value {
    let kind = if a.vgw_id.starts_with("tgw-") { "transitGateway" } else { "virtualPrivateGateway" };
    json!({
        "directConnectGatewayId": a.gateway_id,
        "directConnectGatewayOwnerAccount": a.gateway_owner,
        "associationState": state,
        "associatedGateway": { "id": a.vgw_id, "type": kind, "ownerAccount": a.vgw_owner, "region": a.vgw_region },
        "associationId": a.id,
        "allowedPrefixesToDirectConnectGateway": a.allowed_prefixes,
        "virtualGatewayId": a.vgw_id,
        "virtualGatewayRegion": a.vgw_region,
        "virtualGatewayOwnerAccount": a.vgw_owner,
    })
}

impl DirectConnect {
    /// API_CreateDirectConnectGatewayAssociation: "The virtual private gateway
    /// must be attached to a VPC and must not be associated with another
    /// Direct Connect gateway." (The VPC attachment is EC2's, not checked here.)
    pub(super) fn create_association(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let gw_id = req_str(input, "directConnectGatewayId")?;
        let target = match (opt_str(input, "gatewayId")?, opt_str(input, "virtualGatewayId")?) {
            (Some(a), Some(b)) if a != b => return Err(client_err("gatewayId and virtualGatewayId name different gateways")),
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => return Err(client_err("gatewayId or virtualGatewayId is required")),
        };
        let now = env.now;
        let gw = self
            .gateway(gw_id, now)
            .filter(|g| g.owner == env.account)
            .ok_or_else(|| client_err(format!("Direct Connect gateway {gw_id} does not exist")))?;
        let gw_state = gw.phase.state(now);
        if gw_state == "deleting" || gw_state == "deleted" {
            return Err(client_err(format!("Direct Connect gateway {gw_id} is in state {gw_state}")));
        }
        if !(target.starts_with("vgw-") || target.starts_with("tgw-")) {
            return Err(client_err(format!("{target} is not a virtual private gateway (vgw-) or transit gateway (tgw-) id")));
        }
        if let Some(a) = self.associations.iter().find(|a| a.vgw_id == target && a.phase.state(now) != "disassociated") {
            return Err(client_err(if a.gateway_id == gw_id {
                format!("{target} is already associated with Direct Connect gateway {gw_id}")
            } else {
                format!("{target} is already associated with another Direct Connect gateway ({})", a.gateway_id)
            }));
        }
        let prefixes = match input.get("addAllowedPrefixesToDirectConnectGateway") {
            None | Some(Value::Null) => json!([]),
            Some(Value::Array(items)) => {
                for p in items {
                    let cidr = p.get("cidr").and_then(Value::as_str).unwrap_or("");
                    if !valid_cidr(cidr, "ipv4") && !valid_cidr(cidr, "ipv6") {
                        return Err(client_err(format!("allowed prefix {cidr:?} is not a CIDR block")));
                    }
                }
                Value::Array(items.clone())
            }
            Some(_) => return Err(client_err("addAllowedPrefixesToDirectConnectGateway must be a list")),
        };
        let assoc = Association {
            id: uuid::Uuid::new_v4().to_string(),
            gateway_id: gw_id.to_string(),
            gateway_owner: gw.owner.clone(),
            vgw_id: target.to_string(),
            vgw_region: env.region.to_string(),
            vgw_owner: env.account.to_string(),
            allowed_prefixes: prefixes,
            phase: Phase::new("associating", "associated", env.ready_at(SERVICE, "gateway-association")),
        };
        let out = association_json(&assoc, "associating");
        self.associations.push(assoc);
        Ok(json!({ "directConnectGatewayAssociation": out }))
    }

    /// API_DescribeDirectConnectGatewayAssociations: "You must specify one of
    /// the following: A Direct Connect gateway ... A virtual private gateway
    /// ... A transit gateway ... A Direct Connect gateway and a virtual
    /// private gateway ..."; an association is also found by its
    /// `associationId`, and `associatedGatewayId` names a virtual private or
    /// transit gateway as `virtualGatewayId` does. With none of them:
    /// DirectConnectClientException. The filters combine (all must match).
    /// https://docs.aws.amazon.com/directconnect/latest/APIReference/API_DescribeDirectConnectGatewayAssociations.html
    pub(super) fn describe_associations(&self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let assoc_id = opt_str(input, "associationId")?;
        let gw_id = opt_str(input, "directConnectGatewayId")?;
        let vgw = opt_str(input, "virtualGatewayId")?;
        let associated = opt_str(input, "associatedGatewayId")?;
        if assoc_id.is_none() && gw_id.is_none() && vgw.is_none() && associated.is_none() {
            return Err(client_err(
                "Specify a Direct Connect gateway (directConnectGatewayId), a virtual private or transit gateway (virtualGatewayId or associatedGatewayId), or an association (associationId)",
            ));
        }
        let list: Vec<Value> = self
            .associations
            .iter()
            .filter(|a| {
                (a.gateway_owner == env.account || a.vgw_owner == env.account) && !a.phase.expired(env.now, &["disassociated"], RETENTION)
            })
            .filter(|a| assoc_id.is_none_or(|x| a.id == x))
            .filter(|a| gw_id.is_none_or(|x| a.gateway_id == x))
            .filter(|a| vgw.is_none_or(|x| a.vgw_id == x))
            .filter(|a| associated.is_none_or(|x| a.vgw_id == x))
            .map(|a| association_json(a, a.phase.state(env.now)))
            .collect();
        Ok(json!({ "directConnectGatewayAssociations": list }))
    }

    /// API_DeleteDirectConnectGatewayAssociation: by associationId, or by
    /// virtualGatewayId and directConnectGatewayId.
    pub(super) fn delete_association(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let assoc_id = opt_str(input, "associationId")?;
        let gw_id = opt_str(input, "directConnectGatewayId")?;
        let vgw = opt_str(input, "virtualGatewayId")?;
        if assoc_id.is_none() && (gw_id.is_none() || vgw.is_none()) {
            return Err(client_err("associationId, or directConnectGatewayId and virtualGatewayId, are required"));
        }
        let now = env.now;
        let gone = env.gone_at(SERVICE, "gateway-association");
        let a = self
            .associations
            .iter_mut()
            .filter(|a| a.gateway_owner == env.account || a.vgw_owner == env.account)
            .filter(|a| assoc_id.is_none_or(|x| a.id == x))
            .filter(|a| gw_id.is_none_or(|x| a.gateway_id == x))
            .filter(|a| vgw.is_none_or(|x| a.vgw_id == x))
            .find(|a| a.phase.state(now) != "disassociated")
            .ok_or_else(|| client_err("the Direct Connect gateway association does not exist"))?;
        if a.phase.state(now) != "disassociating" {
            a.phase = Phase::new("disassociating", "disassociated", gone);
        }
        Ok(json!({ "directConnectGatewayAssociation": association_json(a, "disassociating") }))
    }
}
