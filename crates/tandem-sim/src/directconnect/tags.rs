//! Tags by ARN: TagResource, UntagResource, DescribeTags.

use super::*;

impl DirectConnect {
    /// The tag list of the resource an ARN names. ARNs (Service Authorization
    /// Reference, "Resource types defined by AWS Direct Connect"):
    /// `arn:aws:directconnect:<region>:<account>:dxcon/<id>`, `.../dxvif/<id>`,
    /// and, global, `arn:aws:directconnect::<account>:dx-gateway/<id>`.
    pub(super) fn tags_of_arn(&mut self, env: &SimEnv, arn: &str) -> Result<&mut Value, ApiError> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let bad = || client_err(format!("{arn} is not a Direct Connect resource ARN"));
        let [_, _, "directconnect", region, account, resource] = parts.as_slice() else { return Err(bad()) };
        let (kind, id) = resource.split_once('/').ok_or_else(bad)?;
        if *account != env.account {
            return Err(client_err(format!("{arn} does not belong to account {}", env.account)));
        }
        let now = env.now;
        let missing = || client_err(format!("resource {arn} does not exist"));
        match kind {
            "dxcon" => self
                .connections
                .iter_mut()
                .find(|c| c.id == id && c.region == *region && c.owner == env.account)
                .map(|c| &mut c.tags)
                .ok_or_else(missing),
            "dxvif" => self
                .vifs
                .iter_mut()
                .find(|v| {
                    v.id == id
                        && v.region == *region
                        && v.owner == env.account
                        && !v.phase.expired(now, &["deleted", "rejected"], RETENTION)
                })
                .map(|v| &mut v.tags)
                .ok_or_else(missing),
            "dx-gateway" => self
                .gateways
                .iter_mut()
                .find(|g| g.id == id && g.owner == env.account && !g.phase.expired(now, &["deleted"], RETENTION))
                .map(|g| &mut g.tags)
                .ok_or_else(missing),
            _ => Err(bad()),
        }
    }

    /// API_TagResource: "Each resource can have a maximum of 50 tags"; a key
    /// given twice is DuplicateTagKeysException; an existing key is updated.
    pub(super) fn tag_resource(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let arn = req_str(input, "resourceArn")?.to_string();
        let new = match input.get("tags") {
            Some(Value::Array(a)) if !a.is_empty() => tags_of(input)?,
            _ => return Err(client_err("tags is required")),
        };
        let tags = self.tags_of_arn(env, &arn)?;
        let mut list = tags.as_array().cloned().unwrap_or_default();
        for t in new.as_array().into_iter().flatten() {
            let key = t.get("key").cloned();
            match list.iter_mut().find(|x| x.get("key") == key.as_ref()) {
                Some(x) => *x = t.clone(),
                None => list.push(t.clone()),
            }
        }
        if list.len() > 50 {
            return Err(ApiError::new(400, "TooManyTagsException", "a resource can have at most 50 tags"));
        }
        *tags = Value::Array(list);
        Ok(json!({}))
    }

    pub(super) fn untag_resource(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let arn = req_str(input, "resourceArn")?.to_string();
        let keys: Vec<String> = match input.get("tagKeys") {
            Some(Value::Array(a)) => a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect(),
            _ => return Err(client_err("tagKeys is required")),
        };
        let tags = self.tags_of_arn(env, &arn)?;
        if let Some(list) = tags.as_array_mut() {
            list.retain(|t| !t.get("key").and_then(Value::as_str).is_some_and(|k| keys.iter().any(|x| x == k)));
        }
        Ok(json!({}))
    }

    pub(super) fn describe_tags(&mut self, env: &SimEnv, input: &Value) -> Result<Value, ApiError> {
        let arns: Vec<String> = match input.get("resourceArns") {
            Some(Value::Array(a)) if !a.is_empty() => a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect(),
            _ => return Err(client_err("resourceArns is required")),
        };
        let mut out = Vec::new();
        for arn in arns {
            let tags = self.tags_of_arn(env, &arn)?.clone();
            out.push(json!({ "resourceArn": arn, "tags": tags }));
        }
        Ok(json!({ "resourceTags": out }))
    }
}
