//! `aws.connect.user`: an agent (CreateUser / DescribeUser /
//! UpdateUserRoutingProfile / UpdateUserPhoneConfig / UpdateUserIdentityInfo /
//! UpdateUserSecurityProfiles / DeleteUser). Security profiles are named
//! (`Agent`, the defaults every instance has, or any made in the console) and
//! resolved to ids with ListSecurityProfiles, so the same spec serves both
//! regions' instances.
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateUser.html

use super::object::{required, Client, Described, ObjectApi};
use crate::classify;
use async_trait::async_trait;
use aws_sdk_connect::types::{PhoneType, UserIdentityInfo, UserPhoneConfig};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use tandem_provider::{required_id, prop_str, Invalid, KindSchema, ProviderError, Result, SpecResource, SpecView};
use tandem_schema::{Check, Field, OutputDef, Type};

pub(super) struct User;

fn phone_config(p: &Map<String, Value>) -> Option<UserPhoneConfig> {
    let c = p.get("phone_config")?;
    let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
    Some(
        UserPhoneConfig::builder()
            .phone_type(PhoneType::from(s("phone_type").as_deref().unwrap_or("SOFT_PHONE")))
            .set_auto_accept(c.get("auto_accept").and_then(Value::as_bool))
            .set_after_contact_work_time_limit(c.get("after_contact_work_time_limit").and_then(Value::as_i64).map(|n| n as i32))
            .set_desk_phone_number(s("desk_phone_number"))
            .build(),
    )
}

fn identity(p: &Map<String, Value>) -> Option<UserIdentityInfo> {
    let i = p.get("identity_info")?;
    let s = |k: &str| i.get(k).and_then(Value::as_str).map(str::to_string);
    Some(UserIdentityInfo::builder().set_first_name(s("first_name")).set_last_name(s("last_name")).set_email(s("email")).build())
}

/// Security profile name -> id in this instance.
async fn security_profiles(c: &Client, instance: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut next: Option<String> = None;
    loop {
        let page = c
            .list_security_profiles()
            .instance_id(instance)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| classify("ListSecurityProfiles", instance, e))?;
        for s in page.security_profile_summary_list() {
            if let (Some(name), Some(id)) = (s.name(), s.id()) {
                out.insert(name.to_string(), id.to_string());
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

async fn profile_ids(c: &Client, instance: &str, p: &Map<String, Value>) -> Result<Vec<String>> {
    let known = security_profiles(c, instance).await?;
    p.get("security_profile_names")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|n| {
            known.get(n).cloned().ok_or_else(|| {
                ProviderError::invalid(format!(
                    "instance {instance} has no security profile named {n}; it has {}",
                    known.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })
        })
        .collect()
}

#[async_trait]
impl ObjectApi for User {
    const ARN_SEGMENT: &'static str = "agent";
    const NOUN: &'static str = "user";
    const PERMISSIONS: &'static [&'static str] = &[
        "connect:CreateUser",
        "connect:DescribeUser",
        "connect:ListUsers",
        "connect:ListSecurityProfiles",
        "connect:UpdateUserRoutingProfile",
        "connect:UpdateUserPhoneConfig",
        "connect:UpdateUserIdentityInfo",
        "connect:UpdateUserSecurityProfiles",
        "connect:DeleteUser",
        "connect:DescribeInstance",
        "connect:TagResource",
        "connect:UntagResource",
    ];

    fn schema() -> KindSchema {
        KindSchema {
            type_name: "aws.connect.user",
            doc: "A user (agent) of an Amazon Connect instance: who they are, the routing profile that gives them contacts, their phone, and their permissions. Global Resiliency mirrors it to the replica of a replicated instance under the same id and keeps both in sync (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#mirrored-resources): declare it once, against the source instance; tandem waits for the copy and reports drift in either region.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateUser.html",
            regional: true,
            properties: vec![
                Field::new("instance_id", Type::String).required().force_new().refers_to(&["aws.connect.instance"]).doc(super::object::INSTANCE_DOC),
                Field::new("username", Type::String).required().force_new().check(Check::Length(1, 64)).doc("Username, unique in the instance; defaults to the resource's key."),
                Field::new("password", Type::String)
                    .sensitive()
                    .force_new()
                    .check(Check::Length(8, 64))
                    .doc("Password, for CONNECT_MANAGED instances: 8-64 characters with upper and lower case letters and a number. The API can neither read nor change it later, so a new one here makes the user anew."),
                Field::new(
                    "identity_info",
                    Type::Object(vec![
                        Field::new("first_name", Type::String).check(Check::Length(1, 100)).doc("FirstName."),
                        Field::new("last_name", Type::String).check(Check::Length(1, 100)).doc("LastName."),
                        Field::new("email", Type::String).doc("Email."),
                    ]),
                )
                .doc("IdentityInfo (UpdateUserIdentityInfo)."),
                Field::new(
                    "phone_config",
                    Type::Object(vec![
                        Field::new("phone_type", Type::enumeration(&["SOFT_PHONE", "DESK_PHONE"])).required().doc("PhoneType."),
                        Field::new("auto_accept", Type::Boolean).doc("AutoAccept: connect calls without the agent accepting them."),
                        Field::new("after_contact_work_time_limit", Type::Integer).check(Check::Range(0, 2_000_000)).doc("AfterContactWorkTimeLimit, seconds (0: none)."),
                        Field::new("desk_phone_number", Type::String).check(Check::E164).doc("DeskPhoneNumber, E.164, for DESK_PHONE."),
                    ]),
                )
                .required()
                .doc("PhoneConfig (UpdateUserPhoneConfig)."),
                Field::new("routing_profile_id", Type::String).required().refers_to(&["aws.connect.routing_profile"]).doc("RoutingProfileId (UpdateUserRoutingProfile)."),
                Field::new("security_profile_names", Type::list(Type::String))
                    .required()
                    .unordered()
                    .doc("Security profiles by name (Agent, Admin, CallCenterManager, QualityAnalyst, or your own), resolved in the instance (UpdateUserSecurityProfiles)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "The user id."), OutputDef::new("arn", "The user ARN.")],
            name_field: Some("username"),
            import_id: "the user's ARN (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/agent/ID)",
        }
    }

    fn check(p: &Map<String, Value>) -> Vec<Invalid> {
        let desk = p.get("phone_config").and_then(|c| c.get("phone_type")).and_then(Value::as_str) == Some("DESK_PHONE");
        let number = p.get("phone_config").and_then(|c| c.get("desk_phone_number")).is_some_and(|n| !n.is_null());
        // "DeskPhoneNumber: The phone number for the user's desk phone" is what a DESK_PHONE rings.
        // https://docs.aws.amazon.com/connect/latest/APIReference/API_UserPhoneConfig.html
        if desk && !number {
            return vec![Invalid::new("phone_config", "a DESK_PHONE needs desk_phone_number (E.164)")];
        }
        if p.get("security_profile_names").and_then(Value::as_array).is_some_and(|l| l.is_empty()) {
            return vec![Invalid::new("security_profile_names", "a user needs at least one security profile (e.g. Agent)")];
        }
        Vec::new()
    }

    /// "Password: ... A password is required if you are using Amazon Connect
    /// for identity management. Otherwise, it is an error to include a
    /// password." (https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateUser.html)
    fn check_in(me: &SpecResource<'_>, spec: &dyn SpecView) -> Vec<Invalid> {
        let Some(instance) = me.referenced("instance_id").and_then(|a| spec.get(a)) else { return Vec::new() };
        let has_password = me.props.get("password").is_some_and(|v| !v.is_null()) || me.refs.contains_key("password");
        match (prop_str(instance.props, "identity_management_type"), has_password) {
            (Some("CONNECT_MANAGED"), false) => vec![Invalid::new(
                "instance_id",
                format!("`{}` manages its users (CONNECT_MANAGED), so a user needs a `password`", instance.address),
            )],
            (Some(idm @ ("SAML" | "EXISTING_DIRECTORY")), true) => vec![Invalid::new(
                "password",
                format!("`{}` signs users in through {idm}: CreateUser refuses a password; remove `password`", instance.address),
            )],
            _ => Vec::new(),
        }
    }

    async fn create(c: &Client, instance: &str, p: &Map<String, Value>, tags: HashMap<String, String>) -> Result<String> {
        let username = required(p, "username")?;
        let out = c
            .create_user()
            .instance_id(instance)
            .username(username)
            .set_password(prop_str(p, "password").map(str::to_string))
            .set_identity_info(identity(p))
            .set_phone_config(phone_config(p))
            .routing_profile_id(required(p, "routing_profile_id")?)
            .set_security_profile_ids(Some(profile_ids(c, instance, p).await?))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| classify("CreateUser", username, e))?;
        required_id("aws.connect.user", "CreateUser", out.user_arn())
    }

    async fn describe(c: &Client, instance: &str, id: &str) -> Result<Option<Described>> {
        let out = c.describe_user().instance_id(instance).user_id(id).send().await.map_err(|e| classify("DescribeUser", id, e))?;
        let Some(u) = out.user() else { return Ok(None) };
        let mut p = Map::new();
        p.insert("username".into(), json!(u.username()));
        if let Some(i) = u.identity_info() {
            let mut m = Map::new();
            for (k, v) in [("first_name", i.first_name()), ("last_name", i.last_name()), ("email", i.email())] {
                if let Some(v) = v {
                    m.insert(k.into(), json!(v));
                }
            }
            p.insert("identity_info".into(), Value::Object(m));
        }
        if let Some(pc) = u.phone_config() {
            let mut m = Map::new();
            m.insert("phone_type".into(), json!(pc.phone_type().as_str()));
            m.insert("auto_accept".into(), json!(pc.auto_accept()));
            m.insert("after_contact_work_time_limit".into(), json!(pc.after_contact_work_time_limit()));
            if let Some(n) = pc.desk_phone_number() {
                m.insert("desk_phone_number".into(), json!(n));
            }
            p.insert("phone_config".into(), Value::Object(m));
        }
        p.insert("routing_profile_id".into(), json!(u.routing_profile_id()));
        let names: BTreeMap<String, String> = security_profiles(c, instance).await?.into_iter().map(|(n, id)| (id, n)).collect();
        // An id with no name (deleted meanwhile) shows as the id, so the drift is visible.
        let profiles: Vec<&str> = u.security_profile_ids().iter().map(|id| names.get(id).map(String::as_str).unwrap_or(id)).collect();
        p.insert("security_profile_names".into(), json!(profiles));
        Ok(Some(Described { props: p, arn: u.arn().unwrap_or_default().to_string(), tags: u.tags().cloned() }))
    }

    async fn find(c: &Client, instance: &str, name: &str) -> Result<Option<String>> {
        let mut next: Option<String> = None;
        loop {
            let page = c
                .list_users()
                .instance_id(instance)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| classify("ListUsers", instance, e))?;
            if let Some(s) = page.user_summary_list().iter().find(|s| s.username() == Some(name)) {
                return Ok(s.id().map(str::to_string));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(None),
            }
        }
    }

    async fn update(c: &Client, instance: &str, id: &str, d: &Map<String, Value>, changed: &[String]) -> Result<()> {
        let has = |f: &str| changed.iter().any(|c| c == f);
        if has("routing_profile_id") {
            c.update_user_routing_profile()
                .instance_id(instance)
                .user_id(id)
                .routing_profile_id(required(d, "routing_profile_id")?)
                .send()
                .await
                .map_err(|e| classify("UpdateUserRoutingProfile", id, e))?;
        }
        if has("phone_config") {
            c.update_user_phone_config()
                .instance_id(instance)
                .user_id(id)
                .set_phone_config(phone_config(d))
                .send()
                .await
                .map_err(|e| classify("UpdateUserPhoneConfig", id, e))?;
        }
        if has("identity_info") {
            c.update_user_identity_info()
                .instance_id(instance)
                .user_id(id)
                .set_identity_info(identity(d))
                .send()
                .await
                .map_err(|e| classify("UpdateUserIdentityInfo", id, e))?;
        }
        if has("security_profile_names") {
            c.update_user_security_profiles()
                .instance_id(instance)
                .user_id(id)
                .set_security_profile_ids(Some(profile_ids(c, instance, d).await?))
                .send()
                .await
                .map_err(|e| classify("UpdateUserSecurityProfiles", id, e))?;
        }
        Ok(())
    }

    async fn delete(c: &Client, instance: &str, id: &str) -> Result<()> {
        c.delete_user().instance_id(instance).user_id(id).send().await.map_err(|e| classify("DeleteUser", id, e))?;
        Ok(())
    }
}
