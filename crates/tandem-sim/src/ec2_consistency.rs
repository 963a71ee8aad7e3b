//! EC2 eventual consistency for the resources tandem's network kinds make
//! (`/_tandem/consistency`, service `ec2`). "The Amazon EC2 API follows an
//! eventual consistency model ... If you try to describe a resource
//! immediately after you create it, you might get an error" (an
//! `Invalid*ID.NotFound`), and a listing may leave it out:
//! https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html
//!
//! For `not_found_ms` after a Create* answered, a Describe* that names the
//! new id answers its `Invalid<Resource>ID.NotFound` (codes and messages as
//! in https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html),
//! and a Describe* by filters leaves the item out. Everything else (attaching
//! the new gateway, a subnet in the new VPC) already sees it.

use std::collections::HashMap;
use std::time::Instant;

use crate::ec2::{first_text_of, remove_items};
use crate::env::SimEnv;
use crate::error::ApiError;

/// One kind of EC2 resource: how it is made and read back.
pub struct Kind {
    pub create: &'static str,
    /// The element holding the new id in the Create answer and in each Describe item.
    pub id_tag: &'static str,
    pub describe: &'static str,
    /// `{id_param}.N` name ids in the Describe request.
    pub id_param: &'static str,
    /// The Describe answer's item list.
    pub set: &'static str,
    pub code: &'static str,
    /// How the error message names the resource.
    pub noun: &'static str,
}

pub const KINDS: &[Kind] = &[
    Kind {
        create: "CreateVpc",
        id_tag: "vpcId",
        describe: "DescribeVpcs",
        id_param: "VpcId",
        set: "vpcSet",
        code: "InvalidVpcID.NotFound",
        noun: "vpc",
    },
    Kind {
        create: "CreateSubnet",
        id_tag: "subnetId",
        describe: "DescribeSubnets",
        id_param: "SubnetId",
        set: "subnetSet",
        code: "InvalidSubnetID.NotFound",
        noun: "subnet",
    },
    Kind {
        create: "CreateVpnGateway",
        id_tag: "vpnGatewayId",
        describe: "DescribeVpnGateways",
        id_param: "VpnGatewayId",
        set: "vpnGatewaySet",
        code: "InvalidVpnGatewayID.NotFound",
        noun: "vpnGateway",
    },
    Kind {
        create: "CreateCustomerGateway",
        id_tag: "customerGatewayId",
        describe: "DescribeCustomerGateways",
        id_param: "CustomerGatewayId",
        set: "customerGatewaySet",
        code: "InvalidCustomerGatewayID.NotFound",
        noun: "customerGateway",
    },
    Kind {
        create: "CreateVpnConnection",
        id_tag: "vpnConnectionId",
        describe: "DescribeVpnConnections",
        id_param: "VpnConnectionId",
        set: "vpnConnectionSet",
        code: "InvalidVpnConnectionID.NotFound",
        noun: "vpnConnection",
    },
];

/// The kind an action creates or describes.
pub fn kind_of(action: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.create == action || k.describe == action)
}

/// Ids that reads do not see yet: (region, id) -> visible from.
#[derive(Default)]
pub struct Visibility {
    hidden: HashMap<(String, String), Instant>,
}

impl Visibility {
    /// A Create* answered `xml`: its new id stays unseen for the lag.
    pub fn created(&mut self, env: &SimEnv, action: &str, xml: &str) {
        let Some(k) = KINDS.iter().find(|k| k.create == action) else { return };
        let until = env.visible_at("ec2");
        if until <= env.now {
            return;
        }
        if let Some(id) = first_text_of(xml, k.id_tag) {
            self.hidden.insert((env.region.to_string(), id), until);
        }
    }

    fn is_hidden(&self, env: &SimEnv, id: &str) -> bool {
        self.hidden.get(&(env.region.to_string(), id.to_string())).is_some_and(|until| *until > env.now)
    }

    /// Before a Describe* is served: naming an unseen id is its NotFound.
    pub fn check(&mut self, env: &SimEnv, action: &str, params: &[(String, String)]) -> Result<(), ApiError> {
        self.hidden.retain(|_, until| *until > env.now);
        let Some(k) = KINDS.iter().find(|k| k.describe == action) else { return Ok(()) };
        let prefix = format!("{}.", k.id_param);
        for (name, id) in params {
            if name.starts_with(&prefix) && self.is_hidden(env, id) {
                return Err(ApiError::new(400, k.code, format!("The {} ID '{id}' does not exist", k.noun)));
            }
        }
        Ok(())
    }

    /// A Describe* answer without the items not visible yet.
    pub fn filter(&self, env: &SimEnv, action: &str, xml: &str) -> String {
        match KINDS.iter().find(|k| k.describe == action) {
            Some(k) if !self.hidden.is_empty() => remove_items(xml, k.set, k.id_tag, |id| self.is_hidden(env, id)),
            _ => xml.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::TestLatency;
    use std::time::Duration;

    static LAG: TestLatency = TestLatency::not_found("ec2", Duration::from_secs(2));

    fn env_at(t: Instant) -> SimEnv<'static> {
        SimEnv { region: "us-east-1", account: "123456789012", now: t, latency: &LAG }
    }

    #[test]
    fn a_new_id_is_not_found_then_found() {
        let t = Instant::now();
        let mut v = Visibility::default();
        v.created(&env_at(t), "CreateVpc", "<CreateVpcResponse><vpc><vpcId>vpc-1</vpcId><state>pending</state></vpc></CreateVpcResponse>");
        let by_id = vec![("Action".to_string(), "DescribeVpcs".to_string()), ("VpcId.1".to_string(), "vpc-1".to_string())];
        let e = v.check(&env_at(t + Duration::from_secs(1)), "DescribeVpcs", &by_id).unwrap_err();
        assert_eq!((e.status, e.code.as_str(), e.message.as_str()), (400, "InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist"));
        let list = "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-0</vpcId></item><item><vpcId>vpc-1</vpcId><tagSet><item><key>k</key></item></tagSet></item></vpcSet></DescribeVpcsResponse>";
        assert_eq!(
            v.filter(&env_at(t + Duration::from_secs(1)), "DescribeVpcs", list),
            "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-0</vpcId></item></vpcSet></DescribeVpcsResponse>"
        );
        // Other regions, other kinds and later reads see it.
        let west = SimEnv { region: "us-west-2", ..env_at(t) };
        assert!(v.check(&west, "DescribeVpcs", &by_id).is_ok());
        assert!(v.check(&env_at(t + Duration::from_secs(3)), "DescribeVpcs", &by_id).is_ok());
        assert_eq!(v.filter(&env_at(t + Duration::from_secs(3)), "DescribeVpcs", list), list);
    }

    #[test]
    fn every_kind_tandem_makes_is_covered() {
        let t = Instant::now();
        let mut v = Visibility::default();
        for (k, id) in KINDS.iter().zip(["vpc-a", "subnet-a", "vgw-a", "cgw-a", "vpn-a"]) {
            v.created(&env_at(t), k.create, &format!("<{0}Response><x><{1}>{id}</{1}></x></{0}Response>", k.create, k.id_tag));
            let e = v.check(&env_at(t), k.describe, &[(format!("{}.1", k.id_param), id.to_string())]).unwrap_err();
            assert_eq!(e.code, k.code);
            assert!(e.message.contains(id), "{}", e.message);
        }
        assert!(kind_of("DescribeVpnConnections").is_some() && kind_of("DescribeRouteTables").is_none());
    }
}
