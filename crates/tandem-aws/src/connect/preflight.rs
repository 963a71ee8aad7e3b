//! `tandem preflight` for Connect Global Resiliency: what a real account must
//! have before the stack can be made, found with harmless reads.
//!
//! - "To obtain access to this feature, contact your Connect Customer
//!   Solutions Architect or Technical Account Manager": access is granted per
//!   account; without it the Global Resiliency APIs answer
//!   AccessDeniedException. ListTrafficDistributionGroups (a read that needs
//!   no instance) shows whether they answer.
//! - The allowed region pairs, SAML and an alias on the source.
//!   https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html
//! - The numbers a spec claims: SearchAvailablePhoneNumbers needs a target
//!   (an instance or group ARN), so it runs once one exists in the region.

use super::replica::pair_problem;
use crate::{classify, AwsContext};
use aws_sdk_connect::types::{PhoneNumberCountryCode, PhoneNumberType};
use tandem_provider::gone_is_none;
use tandem_provider::{prop_str, Ctx, ErrorClass, Finding, FindingStatus, SpecResource, SpecView};

fn ok(check: impl Into<String>, detail: impl Into<String>) -> Finding {
    Finding::new(FindingStatus::Ok, check, detail)
}

/// The replica: pair, SAML and alias (as the spec says, and as the existing
/// source instance is), and whether the account can use Global Resiliency.
pub(super) async fn replica(aws: &AwsContext, ctx: &Ctx, me: &SpecResource<'_>, spec: &dyn SpecView) -> Vec<Finding> {
    let mut out = Vec::new();
    let Ok(source) = ctx.region() else { return out };
    if let Some(replica) = prop_str(me.props, "replica_region") {
        out.push(match pair_problem(source, replica) {
            None => ok("region pair", format!("{source} -> {replica} is a pair Global Resiliency allows")),
            Some(m) => Finding::new(FindingStatus::Fail, "region pair", m),
        });
    }
    if let Some(instance) = me.referenced("instance_id").and_then(|a| spec.get(a)) {
        match prop_str(instance.props, "identity_management_type") {
            Some("SAML") => {
                out.push(ok("SAML", format!("`{}` uses SAML identity management, which ReplicateInstance requires", instance.address)))
            }
            Some(other) => out.push(Finding::new(
                FindingStatus::Fail,
                "SAML",
                format!("`{}` uses {other}; ReplicateInstance needs SAML", instance.address),
            )),
            None => {}
        }
    }
    // The source as it exists now, when it does.
    if let Some(id) = prop_str(me.props, "instance_id") {
        let client = aws.connect(source).await;
        match gone_is_none(
            client
                .describe_instance()
                .instance_id(super::instance::id_of(id))
                .send()
                .await
                .map_err(|e| classify("DescribeInstance", id, e)),
        ) {
            Ok(Some(d)) => {
                if let Some(i) = d.instance() {
                    let idm = i.identity_management_type().map(|t| t.as_str().to_string()).unwrap_or_default();
                    out.push(if idm == "SAML" {
                        ok("source instance", format!("{id} exists in {source} with SAML identity management"))
                    } else {
                        Finding::new(
                            FindingStatus::Fail,
                            "source instance",
                            format!("{id} exists in {source} with {idm} identity management: ReplicateInstance will refuse it (an instance's identity management cannot change; make a SAML instance)"),
                        )
                    });
                }
            }
            Ok(None) => out.push(Finding::new(FindingStatus::Unknown, "source instance", format!("{id} is not in {source} (yet)"))),
            Err(e) => out.push(Finding::new(FindingStatus::Unknown, "source instance", e.message)),
        }
    }
    out.push(access(aws, source).await);
    out
}

/// Can this account (and caller) use the Global Resiliency APIs in `region`?
async fn access(aws: &AwsContext, region: &str) -> Finding {
    let check = format!("Global Resiliency access in {region}");
    let client = aws.connect(region).await;
    match client.list_traffic_distribution_groups().max_results(1).send().await.map_err(|e| classify("ListTrafficDistributionGroups", region, e)) {
        Ok(_) => ok(check, "ListTrafficDistributionGroups answers: the account can use traffic distribution groups"),
        Err(e) if e.class == ErrorClass::Auth => Finding::new(
            FindingStatus::Fail,
            check,
            format!(
                "{}: either the account has no access to Connect Global Resiliency (AWS grants it per account: ask your Connect Solutions Architect or Technical Account Manager) or the caller lacks connect:ListTrafficDistributionGroups and the other actions listed below",
                e.code.as_deref().unwrap_or("access denied")
            ),
        ),
        Err(e) => Finding::new(FindingStatus::Unknown, check, format!("could not ask: {}", e.message)),
    }
}

/// A number the spec claims: is it (or one of its kind) there to claim?
pub(super) async fn phone_number(aws: &AwsContext, ctx: &Ctx, me: &SpecResource<'_>) -> Vec<Finding> {
    let Ok(region) = ctx.region() else { return Vec::new() };
    let client = aws.connect(region).await;
    let number = prop_str(me.props, "phone_number");
    let check = match number {
        Some(n) => format!("phone number {n}"),
        None => "phone number availability".to_string(),
    };
    // Already ours?
    if let Some(n) = number {
        if let Ok(l) = client.list_phone_numbers_v2().phone_number_prefix(n).send().await {
            if let Some(c) = l.list_phone_numbers_summary_list().iter().find(|c| c.phone_number() == Some(n)) {
                return vec![ok(check, format!("claimed in this account already (to {})", c.target_arn().unwrap_or("?")))];
            }
        }
    }
    // A target to search with: the spec's (once it exists), else any instance in the region.
    let target = match prop_str(me.props, "target_arn") {
        Some(t) => Some(t.to_string()),
        None => match client.list_instances().max_results(1).send().await {
            Ok(l) => l.instance_summary_list().first().and_then(|i| i.arn()).map(str::to_string),
            Err(_) => None,
        },
    };
    let Some(target) = target else {
        return vec![Finding::new(
            FindingStatus::Unknown,
            check,
            format!("SearchAvailablePhoneNumbers needs an instance or group to search for; none exists in {region} yet, so the number is checked when apply claims it"),
        )];
    };
    let country =
        prop_str(me.props, "country_code").map(str::to_string).or_else(|| number.filter(|n| n.starts_with("+1")).map(|_| "US".to_string()));
    let Some(country) = country else {
        return vec![Finding::new(FindingStatus::Unknown, check, "set country_code to check the number's availability")];
    };
    let types: Vec<String> = match prop_str(me.props, "phone_number_type") {
        Some(t) => vec![t.to_string()],
        None => vec!["DID".into(), "TOLL_FREE".into()],
    };
    for ty in &types {
        let prefix = number.or(prop_str(me.props, "phone_number_prefix"));
        let r = client
            .search_available_phone_numbers()
            .target_arn(&target)
            .phone_number_country_code(PhoneNumberCountryCode::from(country.as_str()))
            .phone_number_type(PhoneNumberType::from(ty.as_str()))
            .set_phone_number_prefix(prefix.map(str::to_string))
            .max_results(10)
            .send()
            .await
            .map_err(|e| classify("SearchAvailablePhoneNumbers", &target, e));
        match r {
            Ok(o) => {
                let offered: Vec<&str> = o.available_numbers_list().iter().filter_map(|a| a.phone_number()).collect();
                let hit = match number {
                    Some(n) => offered.contains(&n),
                    None => !offered.is_empty(),
                };
                if hit {
                    return vec![ok(check, format!("available to claim in {region} ({country} {ty})"))];
                }
            }
            Err(e) => return vec![Finding::new(FindingStatus::Unknown, check, format!("could not search: {}", e.message))],
        }
    }
    vec![Finding::new(
        FindingStatus::Fail,
        check,
        format!(
            "not offered in {region} ({country} {}): it is claimed elsewhere, released less than its cooldown (up to 180 days) ago, or not available; pick another number",
            types.join(" or ")
        ),
    )]
}
