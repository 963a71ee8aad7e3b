//! Private virtual interfaces: create / allocate, confirm, describe, delete,
//! peering addresses, and their JSON shape.

use super::*;

pub(super) fn vif_json(v: &VirtualInterface, state: &str) -> Value {
    // DescribeVirtualInterfaces: "When using a 4-byte asnLong, the API
    // response returns 0 for the legacy asn attribute".
    let legacy_asn = if v.asn <= 2_147_483_647 { v.asn } else { 0 };
    let peer_state = match state {
        "confirming" | "pending" | "verifying" => "pending",
        "available" | "down" | "testing" => "available",
        "deleting" => "deleting",
        _ => "deleted",
    };
    let mut m = Map::new();
    m.insert("ownerAccount".into(), json!(v.owner));
    m.insert("virtualInterfaceId".into(), json!(v.id));
    m.insert("location".into(), json!(v.location));
    m.insert("connectionId".into(), json!(v.connection_id));
    m.insert("virtualInterfaceType".into(), json!("private"));
    m.insert("virtualInterfaceName".into(), json!(v.name));
    m.insert("vlan".into(), json!(v.vlan));
    m.insert("asn".into(), json!(legacy_asn));
    m.insert("asnLong".into(), json!(v.asn));
    m.insert("amazonSideAsn".into(), json!(v.amazon_side_asn));
    m.insert("authKey".into(), json!(v.auth_key));
    m.insert("amazonAddress".into(), json!(v.amazon_address));
    m.insert("customerAddress".into(), json!(v.customer_address));
    m.insert("addressFamily".into(), json!(v.address_family));
    m.insert("virtualInterfaceState".into(), json!(state));
    m.insert("mtu".into(), json!(v.mtu));
    m.insert("jumboFrameCapable".into(), json!(true));
    if let Some(vgw) = &v.vgw_id {
        m.insert("virtualGatewayId".into(), json!(vgw));
    }
    if let Some(gw) = &v.gateway_id {
        m.insert("directConnectGatewayId".into(), json!(gw));
    }
    m.insert("routeFilterPrefixes".into(), json!([]));
    m.insert(
        "bgpPeers".into(),
        json!([{
            "bgpPeerId": v.bgp_peer_id,
            "asn": legacy_asn,
            "asnLong": v.asn,
            "authKey": v.auth_key,
            "addressFamily": v.address_family,
            "amazonAddress": v.amazon_address,
            "customerAddress": v.customer_address,
            "bgpPeerState": peer_state,
            // No customer router speaks BGP in the sandbox.
            "bgpStatus": "down",
            "awsDeviceV2": v.aws_device,
            "awsLogicalDeviceId": v.aws_device,
        }]),
    );
    m.insert("region".into(), json!(v.region));
    m.insert("awsDeviceV2".into(), json!(v.aws_device));
    m.insert("awsLogicalDeviceId".into(), json!(v.aws_device));
    m.insert("tags".into(), v.tags.clone());
    m.insert("siteLinkEnabled".into(), json!(false));
    Value::Object(m)
}

impl DirectConnect {
    /// API_CreatePrivateVirtualInterface and API_AllocatePrivateVirtualInterface
    /// (NewPrivateVirtualInterface / NewPrivateVirtualInterfaceAllocation).
    /// Allocated interfaces are "in the Confirming state" until the owner
    /// calls ConfirmPrivateVirtualInterface.
    pub(super) fn create_vif(&mut self, env: &SimEnv, input: &Value, allocate: bool) -> Result<Value, ApiError> {
        let conn_id = req_str(input, "connectionId")?;
        let member = if allocate { "newPrivateVirtualInterfaceAllocation" } else { "newPrivateVirtualInterface" };
        let spec = match input.get(member) {
            Some(v @ Value::Object(_)) => v,
            _ => return Err(client_err(format!("{member} is required"))),
        };
        let owner = if allocate {
            let o = req_str(input, "ownerAccount")?;
            if o.len() != 12 || !o.chars().all(|c| c.is_ascii_digit()) {
                return Err(client_err(format!("ownerAccount {o} is not a 12-digit AWS account id")));
            }
            o.to_string()
        } else {
            env.account.to_string()
        };
        let now = env.now;
        let conn = self
            .connections
            .iter()
            .find(|c| Self::visible(c, env) && c.id == conn_id)
            .ok_or_else(|| client_err(format!("Connection {conn_id} does not exist")))?
            .clone();
        let conn_state = conn.phase.state(now);
        if !matches!(conn_state, "pending" | "available" | "down") {
            return Err(client_err(format!(
                "Connection {conn_id} is in state {conn_state}; virtual interfaces can be created only on a confirmed connection"
            )));
        }

        // NewPrivateVirtualInterface.virtualInterfaceName: "The name has a
        // maximum of 100 characters. The following are valid characters:
        // a-z, 0-9 and a hyphen (-)."
        let name = req_str(spec, "virtualInterfaceName")?;
        if name.len() > 100 || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(client_err(format!("virtualInterfaceName {name:?} is not valid: at most 100 characters among a-z, 0-9 and -")));
        }
        let vlan = opt_int(spec, "vlan")?.ok_or_else(|| client_err("vlan is required"))?;
        if !(1..=4094).contains(&vlan) {
            return Err(client_err(format!("vlan {vlan} must be between 1 and 4094")));
        }
        let live = |v: &&VirtualInterface| v.connection_id == conn_id && !matches!(v.phase.state(now), "deleted" | "rejected");
        if let Some(conn_vlan) = conn.vlan {
            // A hosted connection carries exactly one VLAN, hence one interface.
            if vlan != conn_vlan {
                return Err(client_err(format!("vlan {vlan} does not match the hosted connection's VLAN {conn_vlan}")));
            }
            if let Some(v) = self.vifs.iter().find(live) {
                return Err(client_err(format!("hosted connection {conn_id} already has virtual interface {}", v.id)));
            }
        } else if let Some(v) = self.vifs.iter().filter(live).find(|v| v.vlan == vlan) {
            return Err(client_err(format!("vlan {vlan} is already used by virtual interface {} on {conn_id}", v.id)));
        }

        // asn / asnLong: "If you provide a value in the same API call for both
        // asn and asnLong, the API will only accept the value for asnLong."
        let asn = match (opt_int(spec, "asnLong")?, opt_int(spec, "asn")?) {
            (Some(l), _) => {
                if !(1..=4_294_967_294).contains(&l) {
                    return Err(client_err(format!("asnLong {l} must be between 1 and 4294967294")));
                }
                l
            }
            (None, Some(a)) => {
                if !(1..=2_147_483_646).contains(&a) {
                    return Err(client_err(format!("asn {a} must be between 1 and 2147483646 (use asnLong for 4-byte ASNs)")));
                }
                a
            }
            (None, None) => return Err(client_err("asn or asnLong is required")),
        };
        let mtu = opt_int(spec, "mtu")?.unwrap_or(1500);
        if mtu != 1500 && mtu != 8500 {
            return Err(client_err(format!("mtu {mtu} is not supported: use 1500 or 8500")));
        }
        // authKey: "a minimum length of 6 characters and a maximum length of 80".
        let auth_key = match opt_str(spec, "authKey")? {
            Some(k) if (6..=80).contains(&k.chars().count()) => k.to_string(),
            Some(_) => return Err(client_err("authKey must be between 6 and 80 characters")),
            None => random_alnum(24, false),
        };
        let family = opt_str(spec, "addressFamily")?.unwrap_or("ipv4");
        if family != "ipv4" && family != "ipv6" {
            return Err(client_err(format!("addressFamily {family} is not valid: use ipv4 or ipv6")));
        }
        let (amazon_address, customer_address) = match (opt_str(spec, "amazonAddress")?, opt_str(spec, "customerAddress")?) {
            (Some(a), Some(c)) => {
                if family == "ipv6" {
                    return Err(client_err("amazonAddress and customerAddress cannot be specified for addressFamily ipv6"));
                }
                for addr in [a, c] {
                    if !valid_cidr(addr, "ipv4") {
                        return Err(client_err(format!("{addr:?} is not an IPv4 address in CIDR notation")));
                    }
                }
                if a == c {
                    return Err(client_err("amazonAddress and customerAddress must differ"));
                }
                (a.to_string(), c.to_string())
            }
            (None, None) => self.allocate_peering(family),
            _ => return Err(client_err("amazonAddress and customerAddress must be given together")),
        };

        let (vgw_id, gateway_id, amazon_side_asn) = if allocate {
            (None, None, 64512)
        } else {
            match (opt_str(spec, "virtualGatewayId")?, opt_str(spec, "directConnectGatewayId")?) {
                (Some(_), Some(_)) => return Err(client_err("specify either virtualGatewayId or directConnectGatewayId, not both")),
                (None, None) => return Err(client_err("virtualGatewayId or directConnectGatewayId is required")),
                (Some(vgw), None) => {
                    if !vgw.starts_with("vgw-") {
                        return Err(client_err(format!("{vgw} is not a virtual private gateway id")));
                    }
                    // The VGW's own ASN lives in EC2; the sandbox reports Amazon's default.
                    (Some(vgw.to_string()), None, 64512)
                }
                (None, Some(gw)) => (None, Some(gw.to_string()), self.usable_gateway(env, gw)?),
            }
        };

        let vif = VirtualInterface {
            id: new_id("dxvif"),
            owner,
            connection_id: conn.id.clone(),
            connection_owner: conn.owner.clone(),
            region: env.region.to_string(),
            location: conn.location.clone(),
            aws_device: conn.aws_device.clone(),
            name: name.to_string(),
            vlan,
            asn,
            amazon_side_asn,
            auth_key,
            amazon_address,
            customer_address,
            address_family: family.to_string(),
            mtu,
            vgw_id,
            gateway_id,
            bgp_peer_id: new_id("dxpeer"),
            phase: if allocate {
                Phase::fixed("confirming", now)
            } else {
                Phase::new("pending", "available", env.ready_at(SERVICE, "virtual-interface"))
            },
            tags: tags_of(spec)?,
        };
        let out = vif_json(&vif, vif.phase.before);
        self.vifs.push(vif);
        Ok(out)
    }

    /// The Direct Connect gateway an interface attaches to must exist and not
    /// be going away; returns its Amazon side ASN.
    pub(super) fn usable_gateway(&self, env: &SimEnv, id: &str) -> Result<i64, ApiError> {
        let gw = self
            .gateway(id, env.now)
            .filter(|g| g.owner == env.account)
            .ok_or_else(|| client_err(format!("Direct Connect gateway {id} does not exist")))?;
        match gw.phase.state(env.now) {
            "deleting" | "deleted" => Err(client_err(format!("Direct Connect gateway {id} is in state {}", gw.phase.state(env.now)))),
            _ => Ok(gw.asn),
        }
    }

    pub(super) fn allocate_peering(&mut self, family: &str) -> (String, String) {
        let n = self.next_peering;
        self.next_peering += 1;
        if family == "ipv6" {
            return (format!("2600:1f00:{n:x}::1/125"), format!("2600:1f00:{n:x}::2/125"));
        }
        // 169.254.100.0 upwards, one /30 each: .1 Amazon, .2 customer.
        let base = (100u32 << 8) + n * 4;
        let (c, d) = ((base >> 8) & 0xff, base & 0xff);
        (format!("169.254.{c}.{}/30", d + 1), format!("169.254.{c}.{}/30", d + 2))
    }

    /// API_ConfirmPrivateVirtualInterface: "Accepts ownership of a private
    /// virtual interface created by another AWS account. After the virtual
    /// interface owner makes this call, the virtual interface is created and
    /// attached to the specified virtual private gateway or Direct Connect
    /// gateway". Only an interface in `confirming` can be confirmed.
    pub(super) fn confirm_vif(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = req_str(input, "virtualInterfaceId")?;
        let (vgw, gw) = match (opt_str(input, "virtualGatewayId")?, opt_str(input, "directConnectGatewayId")?) {
            (Some(_), Some(_)) => return Err(client_err("specify either virtualGatewayId or directConnectGatewayId, not both")),
            (None, None) => return Err(client_err("virtualGatewayId or directConnectGatewayId is required")),
            (vgw, gw) => (vgw.map(str::to_string), gw.map(str::to_string)),
        };
        let amazon_side_asn = match &gw {
            Some(g) => self.usable_gateway(env, g)?,
            None => 64512,
        };
        let ready = env.ready_at(SERVICE, "virtual-interface");
        let vif = self
            .vifs
            .iter_mut()
            .find(|v| {
                v.id == id
                    && v.owner == env.account
                    && v.region == env.region
                    && !v.phase.expired(env.now, &["deleted", "rejected"], RETENTION)
            })
            .ok_or_else(|| client_err(format!("Virtual interface {id} does not exist")))?;
        let state = vif.phase.state(env.now);
        if state != "confirming" {
            return Err(client_err(format!(
                "Virtual interface {id} is in state {state}; only an interface in state confirming can be confirmed"
            )));
        }
        vif.vgw_id = vgw;
        vif.gateway_id = gw;
        vif.amazon_side_asn = amazon_side_asn;
        vif.phase = Phase::new("pending", "available", ready);
        Ok(json!({ "virtualInterfaceState": "pending" }))
    }

    pub(super) fn describe_vifs(&self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let conn_id = opt_str(input, "connectionId")?;
        let id = opt_str(input, "virtualInterfaceId")?;
        let list: Vec<Value> = self
            .vifs
            .iter()
            .filter(|v| v.region == env.region && (v.owner == env.account || v.connection_owner == env.account))
            .filter(|v| !v.phase.expired(env.now, &["deleted", "rejected"], RETENTION))
            .filter(|v| conn_id.is_none_or(|x| v.connection_id == x))
            .filter(|v| id.is_none_or(|x| v.id == x))
            .map(|v| vif_json(v, v.phase.state(env.now)))
            .collect();
        if let (Some(id), true) = (id, list.is_empty()) {
            return Err(client_err(format!("Virtual interface {id} does not exist")));
        }
        Ok(json!({ "virtualInterfaces": list }))
    }

    /// API_DeleteVirtualInterface. The state goes `deleting` -> `deleted`; "If
    /// a virtual interface in the Confirming state is deleted by the virtual
    /// interface owner, the virtual interface enters the Rejected state."
    pub(super) fn delete_vif(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let id = req_str(input, "virtualInterfaceId")?;
        let now = env.now;
        let gone = env.gone_at(SERVICE, "virtual-interface");
        let vif = self
            .vifs
            .iter_mut()
            .find(|v| v.id == id && v.region == env.region && (v.owner == env.account || v.connection_owner == env.account))
            .filter(|v| !v.phase.expired(now, &["deleted", "rejected"], RETENTION))
            .ok_or_else(|| client_err(format!("Virtual interface {id} does not exist")))?;
        let state = vif.phase.state(now);
        let answer = match state {
            "deleted" | "rejected" => return Err(client_err(format!("Virtual interface {id} is already {state}"))),
            "deleting" => "deleting",
            "confirming" if vif.owner == env.account => {
                vif.phase = Phase::fixed("rejected", now);
                "rejected"
            }
            _ => {
                vif.phase = Phase::new("deleting", "deleted", gone);
                "deleting"
            }
        };
        Ok(json!({ "virtualInterfaceState": answer }))
    }
}
