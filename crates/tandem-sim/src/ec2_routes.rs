//! EC2 route propagation from a virtual private gateway: neither moto 5.2.5
//! nor any other emulator serves it, and without it the routes a VGW learns
//! over BGP (VPN or Direct Connect) never reach the VPC's route tables.
//!
//! EnableVgwRoutePropagation / DisableVgwRoutePropagation are answered here,
//! after checking with the upstream that the route table and the gateway exist
//! and that the gateway is attached to the table's VPC; DescribeRouteTables
//! answers from the upstream gain `propagatingVgwSet`.
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableVgwRoutePropagation.html
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisableVgwRoutePropagation.html
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_PropagatingVgw.html

use std::collections::{BTreeMap, BTreeSet};

pub const ACTIONS: &[&str] = &["EnableVgwRoutePropagation", "DisableVgwRoutePropagation", "DescribeRouteTables"];

/// Per region and route table, the gateways propagating into it.
#[derive(Default)]
pub struct RoutePropagation {
    tables: BTreeMap<(String, String), BTreeSet<String>>,
}

impl RoutePropagation {
    pub fn enable(&mut self, region: &str, table: &str, gateway: &str) {
        self.tables.entry((region.to_string(), table.to_string())).or_default().insert(gateway.to_string());
    }

    pub fn disable(&mut self, region: &str, table: &str, gateway: &str) {
        if let Some(set) = self.tables.get_mut(&(region.to_string(), table.to_string())) {
            set.remove(gateway);
        }
    }

    /// Adds `propagatingVgwSet` to each route table of a DescribeRouteTables
    /// answer. The table's own `routeTableId` is the one outside
    /// `associationSet` (associations repeat it).
    pub fn augment_describe(&self, region: &str, xml: &str) -> String {
        if xml.contains("<Errors>") {
            return xml.to_string();
        }
        let assoc = spans(xml, "<associationSet>", "</associationSet>");
        let mut out = String::with_capacity(xml.len() + 128);
        let mut at = 0;
        let open = "<routeTableId>";
        while let Some(rel) = xml[at..].find(open) {
            let start = at + rel;
            let Some(end_rel) = xml[start..].find("</routeTableId>") else { break };
            let end = start + end_rel + "</routeTableId>".len();
            out.push_str(&xml[at..end]);
            at = end;
            if assoc.iter().any(|(s, e)| start > *s && start < *e) {
                continue;
            }
            let id = &xml[start + open.len()..start + end_rel];
            let gateways = self.tables.get(&(region.to_string(), id.to_string())).filter(|g| !g.is_empty());
            out.push_str(&propagating_set(gateways));
        }
        out.push_str(&xml[at..]);
        out
    }
}

fn propagating_set(gateways: Option<&BTreeSet<String>>) -> String {
    match gateways {
        None => "<propagatingVgwSet/>".to_string(),
        Some(g) => {
            let items: String = g.iter().map(|id| format!("<item><gatewayId>{id}</gatewayId></item>")).collect();
            format!("<propagatingVgwSet>{items}</propagatingVgwSet>")
        }
    }
}

/// Byte ranges of `open`..`close` blocks (not nested in this document shape).
fn spans(xml: &str, open: &str, close: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(rel) = xml[at..].find(open) {
        let s = at + rel;
        let Some(erel) = xml[s..].find(close) else { break };
        let e = s + erel + close.len();
        out.push((s, e));
        at = e;
    }
    out
}

/// The text of the first `<tag>...</tag>` in `xml`.
pub fn first_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let s = xml.find(&open)? + open.len();
    let e = xml[s..].find(&format!("</{tag}>"))? + s;
    Some(&xml[s..e])
}

/// Is the gateway in this DescribeVpnGateways answer attached to `vpc`?
pub fn attached_to(vgw_xml: &str, vpc: &str) -> bool {
    spans(vgw_xml, "<attachments>", "</attachments>").iter().any(|(s, e)| {
        let block = &vgw_xml[*s..*e];
        spans(block, "<item>", "</item>").iter().any(|(is, ie)| {
            let item = &block[*is..*ie];
            first_text(item, "vpcId") == Some(vpc) && first_text(item, "state") == Some("attached")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLES: &str = "<DescribeRouteTablesResponse><routeTableSet><item><associationSet><item><main>true</main><routeTableId>rtb-1</routeTableId></item></associationSet><routeTableId>rtb-1</routeTableId><routeSet/><vpcId>vpc-1</vpcId></item><item><routeTableId>rtb-2</routeTableId><vpcId>vpc-1</vpcId></item></routeTableSet></DescribeRouteTablesResponse>";

    #[test]
    fn describe_gains_the_propagating_gateways_of_each_table_only() {
        let mut p = RoutePropagation::default();
        p.enable("us-east-1", "rtb-1", "vgw-a");
        let out = p.augment_describe("us-east-1", TABLES);
        assert_eq!(out.matches("<propagatingVgwSet>").count(), 1, "{out}");
        assert!(out.contains("</associationSet><routeTableId>rtb-1</routeTableId><propagatingVgwSet><item><gatewayId>vgw-a</gatewayId></item></propagatingVgwSet>"), "{out}");
        assert!(out.contains("<routeTableId>rtb-2</routeTableId><propagatingVgwSet/>"), "{out}");
        assert!(!out.contains("<main>true</main><routeTableId>rtb-1</routeTableId><propagating"), "associations are left alone: {out}");
        // Another region's table of the same id is another table.
        assert!(!p.augment_describe("us-west-2", TABLES).contains("vgw-a"));
        p.disable("us-east-1", "rtb-1", "vgw-a");
        assert_eq!(p.augment_describe("us-east-1", TABLES).matches("<propagatingVgwSet/>").count(), 2);
    }

    #[test]
    fn errors_pass_through() {
        let err = "<Response><Errors><Error><Code>InvalidRouteTableID.NotFound</Code></Error></Errors></Response>";
        assert_eq!(RoutePropagation::default().augment_describe("us-east-1", err), err);
    }

    #[test]
    fn attachment_is_read_from_the_gateway_answer() {
        let xml = "<vpnGatewaySet><item><vpnGatewayId>vgw-a</vpnGatewayId><state>available</state><attachments><item><vpcId>vpc-1</vpcId><state>attached</state></item></attachments></item></vpnGatewaySet>";
        assert!(attached_to(xml, "vpc-1"));
        assert!(!attached_to(xml, "vpc-2"));
        assert!(!attached_to(&xml.replace("<state>attached</state>", "<state>detached</state>"), "vpc-1"));
    }
}
