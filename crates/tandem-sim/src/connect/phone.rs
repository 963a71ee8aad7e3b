//! Phone numbers: search, claim (to an instance or a traffic distribution
//! group), describe, list, release, and flow association.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{arn, empty, new_id, page, parse_arn, ready, tags_of, Connect, RestRequest};
use crate::env::SimEnv;
use crate::error::ApiError;

/// A number offered by SearchAvailablePhoneNumbers (seedable through the admin API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableNumber {
    #[serde(rename = "PhoneNumber")]
    pub phone_number: String,
    #[serde(rename = "PhoneNumberCountryCode")]
    pub country_code: String,
    #[serde(rename = "PhoneNumberType")]
    pub number_type: String,
}

#[derive(Debug, Clone)]
pub struct PhoneNumber {
    pub id: String,
    pub arn: String,
    /// Where it was claimed (for a group: the group's Region).
    pub region: String,
    pub number: String,
    pub country_code: String,
    pub number_type: String,
    pub description: Option<String>,
    /// Instance or traffic distribution group ARN.
    pub target_arn: String,
    /// For a group: the Region linked to it besides `region`.
    pub other_region: Option<String>,
    pub instance_id: Option<String>,
    pub ready_at: Instant,
    pub tags: Map<String, Value>,
    /// Region -> (instance id, contact flow id).
    pub flows: BTreeMap<String, (String, String)>,
}

const TYPES: &[&str] = &["TOLL_FREE", "DID", "UIFN", "SHARED", "THIRD_PARTY_TF", "THIRD_PARTY_DID", "SHORT_CODE"];

/// The built-in pool for regions nobody seeded: 20 numbers per country/type
/// for a few countries (555-01xx style numbers).
fn builtin_pool() -> Vec<AvailableNumber> {
    let mut out = Vec::new();
    for (cc, did, tf) in [
        ("US", "+1206555", "+1800555"),
        ("GB", "+44207946", "+44800046"),
        ("DE", "+49301234", "+49800123"),
        ("JP", "+81312345", "+81120123"),
    ] {
        for (ty, prefix) in [("DID", did), ("TOLL_FREE", tf)] {
            for n in 0..20 {
                out.push(AvailableNumber {
                    phone_number: format!("{prefix}{:04}", 100 + n),
                    country_code: cc.into(),
                    number_type: ty.into(),
                });
            }
        }
    }
    out
}

/// `^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$`
fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
}

impl PhoneNumber {
    fn status(&self, now: Instant) -> &'static str {
        if ready(now, self.ready_at) {
            "CLAIMED"
        } else {
            "IN_PROGRESS"
        }
    }
    fn visible_from(&self, region: &str) -> bool {
        self.region == region || self.other_region.as_deref() == Some(region)
    }
}

impl Connect {
    fn pool(&self, region: &str) -> Vec<AvailableNumber> {
        match self.available.get(region) {
            Some(seeded) => seeded.clone(),
            None => builtin_pool(),
        }
    }

    /// A claim target (instance ARN or group ARN) as seen from `env.region`:
    /// (target ARN, other linked Region for groups, instance id for instances).
    fn target(
        &mut self,
        env: &SimEnv,
        target_arn: Option<String>,
        instance_id: Option<String>,
    ) -> Result<(String, Option<String>, Option<String>), ApiError> {
        match (target_arn, instance_id) {
            (Some(_), Some(_)) => Err(ApiError::invalid_parameter("Give either TargetArn or InstanceId, not both")),
            (None, None) => Err(ApiError::invalid_parameter("TargetArn or InstanceId is required")),
            (None, Some(i)) => {
                let inst = self.instance(env, &i)?;
                Ok((inst.arn.clone(), None, Some(inst.id.clone())))
            }
            (Some(t), None) => {
                let (_, resource) = parse_arn(&t).ok_or_else(|| ApiError::invalid_parameter(format!("TargetArn {t} is not an ARN")))?;
                if resource.starts_with("traffic-distribution-group/") {
                    let id = self.group_id(env, &t)?;
                    let g = &self.groups[&id];
                    // "You can call this API only in the same AWS Region where the
                    // ... traffic distribution group was created"; elsewhere:
                    // InvalidParameterException, and a group not ACTIVE:
                    // ResourceNotFoundException
                    // (https://docs.aws.amazon.com/connect/latest/adminguide/claim-phone-numbers-traffic-distribution-groups.html).
                    if g.region != env.region {
                        return Err(ApiError::invalid_parameter(format!(
                            "The endpoint you are calling is not in the same Region where the traffic distribution group was created ({})",
                            g.region
                        )));
                    }
                    if g.status(env.now) != "ACTIVE" {
                        return Err(ApiError::not_found(format!("The traffic distribution group is {}, not ACTIVE", g.status(env.now))));
                    }
                    Ok((g.arn.clone(), Some(g.replica_region.clone()), None))
                } else {
                    let inst = self.instance_or_arn(env, &t)?;
                    Ok((inst.arn.clone(), None, Some(inst.id.clone())))
                }
            }
        }
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_SearchAvailablePhoneNumbers.html
    pub(crate) fn search_available(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        self.target(env, req.s("TargetArn"), req.s("InstanceId"))?;
        let cc = req.s("PhoneNumberCountryCode").ok_or_else(|| ApiError::invalid_parameter("PhoneNumberCountryCode is required"))?;
        let ty = req.s("PhoneNumberType").ok_or_else(|| ApiError::invalid_parameter("PhoneNumberType is required"))?;
        if !TYPES.contains(&ty.as_str()) {
            return Err(ApiError::invalid_parameter(format!("PhoneNumberType {ty} is not valid")));
        }
        let prefix = req.s("PhoneNumberPrefix").unwrap_or_default();
        let all: Vec<Value> = self
            .pool(env.region)
            .into_iter()
            .filter(|n| n.country_code == cc && n.number_type == ty && n.phone_number.starts_with(&prefix))
            .filter(|n| !self.numbers.values().any(|c| c.number == n.phone_number) && !self.cooldown.contains(&n.phone_number))
            .map(|n| json!({ "PhoneNumber": n.phone_number, "PhoneNumberCountryCode": n.country_code, "PhoneNumberType": n.number_type }))
            .collect();
        let (items, next) = page(all, req, 10);
        let mut out = json!({ "AvailableNumbersList": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ClaimPhoneNumber.html
    /// A number is claimed to a traffic distribution group only in the group's Region.
    /// Its ClientToken is a UUID: "Pattern:
    /// ^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$" (the
    /// API Reference; the service checks it, the SDKs do not).
    pub(crate) fn claim_number(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let number = req.s("PhoneNumber").ok_or_else(|| ApiError::invalid_parameter("PhoneNumber is required"))?;
        let token = req.s("ClientToken");
        if let Some(t) = &token {
            if !is_uuid(t) {
                return Err(ApiError::invalid_parameter(format!(
                    "ClientToken {t:?} must match ^[a-f0-9]{{8}}-[a-f0-9]{{4}}-[a-f0-9]{{4}}-[a-f0-9]{{4}}-[a-f0-9]{{12}}$"
                )));
            }
        }
        let input = req.body.clone();
        self.idempotent(
            env,
            "ClaimPhoneNumber",
            token,
            &input,
            || ApiError::new(409, "IdempotencyException", "ClientToken was used with different parameters"),
            |c| {
                let (target_arn, other_region, instance_id) = c.target(env, req.s("TargetArn"), req.s("InstanceId"))?;
                let offered = c
                    .pool(env.region)
                    .into_iter()
                    .find(|n| n.phone_number == number)
                    .ok_or_else(|| ApiError::invalid_parameter(format!("PhoneNumber {number} is not available in {}", env.region)))?;
                if c.numbers.values().any(|n| n.number == number) {
                    return Err(ApiError::invalid_parameter(format!("PhoneNumber {number} is already claimed")));
                }
                if c.cooldown.contains(&number) {
                    return Err(ApiError::invalid_parameter(format!(
                        "PhoneNumber {number} was released and is in its cooldown (up to 180 days)"
                    )));
                }
                let id = new_id();
                let arn = arn(env, env.region, &format!("phone-number/{id}"));
                c.numbers.insert(
                    id.clone(),
                    PhoneNumber {
                        id: id.clone(),
                        arn: arn.clone(),
                        region: env.region.to_string(),
                        number: number.clone(),
                        country_code: offered.country_code,
                        number_type: offered.number_type,
                        description: req.s("PhoneNumberDescription"),
                        target_arn,
                        other_region,
                        instance_id,
                        ready_at: env.ready_at("connect", "phone-number"),
                        tags: tags_of(&req.body, "Tags"),
                        flows: BTreeMap::new(),
                    },
                );
                c.newborn(env, env.region, &id);
                Ok(json!({ "PhoneNumberId": id, "PhoneNumberArn": arn }))
            },
        )
    }

    /// The number named by id or ARN from `env.region`: a number claimed to a
    /// group is named by id or ARN in the group's Region, by ARN only in the
    /// other linked Region; an id there gives ResourceNotFoundException
    /// (https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribePhoneNumber.html,
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociatePhoneNumberContactFlow.html).
    fn number_id(&self, env: &SimEnv, id_or_arn: &str) -> Result<String, ApiError> {
        let not_found = || ApiError::not_found(format!("Phone number {id_or_arn} not found in {}", env.region));
        match parse_arn(id_or_arn) {
            Some((_, resource)) => {
                let id = resource.strip_prefix("phone-number/").ok_or_else(not_found)?;
                match self.numbers.get(id) {
                    Some(n) if n.arn == id_or_arn && n.visible_from(env.region) => Ok(id.to_string()),
                    _ => Err(not_found()),
                }
            }
            None => match self.numbers.get(id_or_arn) {
                Some(n) if n.region == env.region => Ok(id_or_arn.to_string()),
                _ => Err(not_found()),
            },
        }
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DescribePhoneNumber.html
    pub(crate) fn describe_number(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.number_id(env, req.seg(1))?;
        let n = &self.numbers[&id];
        let mut v = json!({
            "PhoneNumberId": n.id, "PhoneNumberArn": n.arn, "PhoneNumber": n.number,
            "PhoneNumberCountryCode": n.country_code, "PhoneNumberType": n.number_type,
            "TargetArn": n.target_arn, "Tags": n.tags,
            "PhoneNumberStatus": { "Status": n.status(env.now) },
        });
        if let Some(d) = &n.description {
            v["PhoneNumberDescription"] = json!(d);
        }
        if let Some(i) = &n.instance_id {
            v["InstanceId"] = json!(i);
        }
        Ok(json!({ "ClaimedPhoneNumberSummary": v }))
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListPhoneNumbersV2.html
    pub(crate) fn list_numbers(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let target = match (req.s("TargetArn"), req.s("InstanceId")) {
            (None, None) => None,
            (t, i) => {
                let (arn, _, _) = match (&t, &i) {
                    // Listing by group ARN also works from the replica Region.
                    (Some(t), None) if t.contains(":traffic-distribution-group/") => {
                        let id = self.group_id(env, t)?;
                        (self.groups[&id].arn.clone(), None, None)
                    }
                    _ => self.target(env, t, i)?,
                };
                Some(arn)
            }
        };
        let countries: Vec<String> =
            req.body.get("PhoneNumberCountryCodes").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
        let types: Vec<String> = req.body.get("PhoneNumberTypes").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
        let prefix = req.s("PhoneNumberPrefix").unwrap_or_default();
        let all: Vec<Value> = self
            .numbers
            .values()
            .filter(|n| n.visible_from(env.region))
            .filter(|n| target.as_ref().is_none_or(|t| *t == n.target_arn))
            .filter(|n| countries.is_empty() || countries.contains(&n.country_code))
            .filter(|n| types.is_empty() || types.contains(&n.number_type))
            .filter(|n| n.number.starts_with(&prefix))
            .map(|n| {
                let mut v = json!({
                    "PhoneNumberId": n.id, "PhoneNumberArn": n.arn, "PhoneNumber": n.number,
                    "PhoneNumberCountryCode": n.country_code, "PhoneNumberType": n.number_type, "TargetArn": n.target_arn,
                });
                if let Some(i) = &n.instance_id {
                    v["InstanceId"] = json!(i);
                }
                if let Some(d) = &n.description {
                    v["PhoneNumberDescription"] = json!(d);
                }
                v
            })
            .collect();
        let (items, next) = page(all, req, 10);
        let mut out = json!({ "ListPhoneNumbersSummaryList": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ReleasePhoneNumber.html:
    /// "You can call this API only in the Amazon Web Services Region where the
    /// number was claimed." and "After releasing a phone number, the phone
    /// number enters into a cooldown period for up to 180 days. It cannot be
    /// searched for or claimed again until the period has ended."
    pub(crate) fn release_number(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.number_id(env, req.seg(1))?;
        let n = &self.numbers[&id];
        if n.region != env.region {
            return Err(ApiError::invalid_parameter(format!("The phone number is released in {}, where it was claimed", n.region)));
        }
        if !ready(env.now, n.ready_at) {
            return Err(ApiError::in_use("The phone number claim is still IN_PROGRESS"));
        }
        if let Some(n) = self.numbers.remove(&id) {
            self.cooldown.insert(n.number);
        }
        Ok(empty())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_UpdatePhoneNumber.html
    /// Moves a claimed number to another instance or traffic distribution
    /// group "created in the same Region where the phone number was initially
    /// claimed" (adminguide/assign-phone-numbers-traffic-distribution-groups.html).
    /// Flow associations do not move with it.
    pub(crate) fn update_number(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.number_id(env, req.seg(1))?;
        if self.numbers[&id].region != env.region {
            return Err(ApiError::invalid_parameter(format!(
                "The phone number is updated in {}, where it was claimed",
                self.numbers[&id].region
            )));
        }
        let token = req.s("ClientToken");
        let mut input = req.body.clone();
        input["PhoneNumberId"] = json!(id);
        self.idempotent(
            env,
            "UpdatePhoneNumber",
            token,
            &input,
            || ApiError::new(409, "IdempotencyException", "ClientToken was used with different parameters"),
            |c| {
                let n = &c.numbers[&id];
                if !ready(env.now, n.ready_at) {
                    return Err(ApiError::in_use("The phone number is IN_PROGRESS"));
                }
                let (target_arn, other_region, instance_id) = c.target(env, req.s("TargetArn"), req.s("InstanceId"))?;
                let n = c.numbers.get_mut(&id).expect("checked");
                n.target_arn = target_arn;
                n.other_region = other_region;
                n.instance_id = instance_id;
                n.flows.clear();
                n.ready_at = env.ready_at("connect", "phone-number");
                Ok(json!({ "PhoneNumberId": n.id, "PhoneNumberArn": n.arn }))
            },
        )
    }

    /// The instance a flow association names, checked against the number's target.
    fn flow_instance(&self, env: &SimEnv, number_id: &str, instance_ref: &str) -> Result<String, ApiError> {
        let inst = self.instance(env, instance_ref)?;
        let n = &self.numbers[number_id];
        let belongs = n.target_arn == inst.arn
            || self.groups.values().any(|g| g.arn == n.target_arn && g.instance_arn.ends_with(&format!("instance/{}", inst.id)));
        if !belongs {
            return Err(ApiError::invalid_parameter(format!(
                "The phone number is not claimed to instance {instance_ref} or its traffic distribution group"
            )));
        }
        Ok(inst.id.clone())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_AssociatePhoneNumberContactFlow.html
    pub(crate) fn associate_flow(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.number_id(env, req.seg(1))?;
        let instance_ref = req.s("InstanceId").ok_or_else(|| ApiError::invalid_parameter("InstanceId is required"))?;
        let flow = req.s("ContactFlowId").ok_or_else(|| ApiError::invalid_parameter("ContactFlowId is required"))?;
        let instance_id = self.flow_instance(env, &id, &instance_ref)?;
        let flow_id = self.object_id(env.region, &instance_id, "contact-flow", &flow)?;
        self.numbers.get_mut(&id).expect("checked").flows.insert(env.region.to_string(), (instance_id.clone(), flow_id.clone()));
        // "Phone number to flow" is mirrored (create-replica-connect-instance.html#mirrored-resources).
        self.mirror(env, &instance_id, super::mirror::Mirrored::NumberFlow { number: id, flow: Some(flow_id) });
        Ok(empty())
    }

    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DisassociatePhoneNumberContactFlow.html
    pub(crate) fn disassociate_flow(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let id = self.number_id(env, req.seg(1))?;
        let instance_ref = req.q("instanceId").ok_or_else(|| ApiError::invalid_parameter("instanceId is required"))?.to_string();
        let instance_id = self.flow_instance(env, &id, &instance_ref)?;
        let n = self.numbers.get_mut(&id).expect("checked");
        match n.flows.get(env.region) {
            Some((i, _)) if *i == instance_id => {
                n.flows.remove(env.region);
                self.mirror(env, &instance_id, super::mirror::Mirrored::NumberFlow { number: id, flow: None });
                Ok(empty())
            }
            _ => Err(ApiError::not_found("The phone number has no contact flow association in this instance")),
        }
    }

    /// The numbers associated with a flow in this instance (in this region).
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListFlowAssociations.html
    pub(crate) fn list_flow_associations(&mut self, env: &SimEnv, req: &RestRequest) -> Result<Value, ApiError> {
        let instance_id = self.instance(env, req.seg(1))?.id.clone();
        // Only voice numbers are associated with flows here, so other types list nothing.
        if req.q("ResourceType").is_some_and(|t| t != "VOICE_PHONE_NUMBER") {
            return Ok(json!({ "FlowAssociationSummaryList": [] }));
        }
        let all: Vec<Value> = self
            .numbers
            .values()
            .filter_map(|n| match n.flows.get(env.region) {
                Some((i, flow)) if *i == instance_id => {
                    Some(json!({ "ResourceId": n.arn, "FlowId": flow, "ResourceType": "VOICE_PHONE_NUMBER" }))
                }
                _ => None,
            })
            .collect();
        let (items, next) = super::page(all, req, 1000);
        let mut out = json!({ "FlowAssociationSummaryList": items });
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }
}
