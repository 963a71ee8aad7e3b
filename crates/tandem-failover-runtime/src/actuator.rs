//! Reads and sets the traffic distribution group's distribution (telephony
//! AND agents).
//!
//! The API rule: from the group's source region the group may be named by id
//! or ARN, from the replica region by ARN only. The controller must work
//! while the source region's Connect API is down, so the group is always
//! addressed by ARN, and the actuator tries the controller's own region
//! first, then the other one.

use crate::{sdk_message, Result, RuntimeError};
use async_trait::async_trait;
use aws_sdk_connect::types::{AgentConfig, Distribution as SdkDistribution, TelephonyConfig};
use std::collections::BTreeMap;
use tandem_failover::distribution::{Distribution, Weights};

/// The traffic distribution group, as the controller moves it.
/// [`ConnectActuator`] is the AWS one; tests script their own.
#[async_trait]
pub trait Actuator: Send + Sync {
    /// The group's ARN (what drills and the sandbox name it by).
    fn group_arn(&self) -> &str;
    /// The live distribution, and the region that answered.
    async fn get(&self) -> Result<(Distribution, String)>;
    /// Sets calls and agents to `to`; returns the region that accepted it.
    async fn set(&self, to: &Distribution) -> Result<String>;
    /// The agents (user ids) the group's agent distribution moves.
    async fn users(&self) -> Result<Vec<String>>;
}

#[derive(Clone)]
pub struct ConnectActuator {
    pub group_arn: String,
    /// (region, client), the controller's own region first.
    clients: Vec<(String, aws_sdk_connect::Client)>,
}

impl ConnectActuator {
    /// `clients`: the regions to call through, in the order to try them
    /// (the controller's own region first).
    pub fn new(group_arn: &str, clients: Vec<(String, aws_sdk_connect::Client)>) -> Self {
        ConnectActuator { group_arn: group_arn.to_string(), clients }
    }
}

#[async_trait]
impl Actuator for ConnectActuator {
    fn group_arn(&self) -> &str {
        &self.group_arn
    }

    /// `GetTrafficDistribution`: the live distribution, and the region that answered.
    async fn get(&self) -> Result<(Distribution, String)> {
        let mut last = RuntimeError::Invalid("no region to call".into());
        for (region, client) in &self.clients {
            match client.get_traffic_distribution().id(&self.group_arn).send().await {
                Ok(out) => {
                    let telephony = weights(out.telephony_config().map(|t| t.distributions()));
                    let agents = weights(out.agent_config().map(|a| a.distributions()));
                    return Ok((Distribution { telephony, agents }, region.clone()));
                }
                Err(e) => {
                    last = RuntimeError::Aws { operation: "GetTrafficDistribution", region: region.clone(), message: sdk_message(&e) };
                    tracing::debug!(%last, "trying the next region");
                }
            }
        }
        Err(last)
    }

    /// `UpdateTrafficDistribution` with `TelephonyConfig` and `AgentConfig`;
    /// returns the region that accepted it.
    async fn set(&self, to: &Distribution) -> Result<String> {
        let telephony = TelephonyConfig::builder()
            .set_distributions(Some(sdk_distributions(&to.telephony)?))
            .build()
            .map_err(|e| RuntimeError::Invalid(e.to_string()))?;
        let agents = AgentConfig::builder()
            .set_distributions(Some(sdk_distributions(&to.agents)?))
            .build()
            .map_err(|e| RuntimeError::Invalid(e.to_string()))?;
        let mut last = RuntimeError::Invalid("no region to call".into());
        for (region, client) in &self.clients {
            let r = client
                .update_traffic_distribution()
                .id(&self.group_arn)
                .telephony_config(telephony.clone())
                .agent_config(agents.clone())
                .send()
                .await;
            match r {
                Ok(_) => return Ok(region.clone()),
                Err(e) => {
                    last = RuntimeError::Aws { operation: "UpdateTrafficDistribution", region: region.clone(), message: sdk_message(&e) };
                    tracing::debug!(%last, "trying the next region");
                }
            }
        }
        Err(last)
    }

    /// `ListTrafficDistributionGroupUsers`: the agents the group's agent
    /// distribution moves (only associated users follow it). The group goes
    /// by ARN, which both regions accept.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_ListTrafficDistributionGroupUsers.html
    async fn users(&self) -> Result<Vec<String>> {
        let mut last = RuntimeError::Invalid("no region to call".into());
        'regions: for (region, client) in &self.clients {
            let mut out = Vec::new();
            let mut next: Option<String> = None;
            loop {
                match client
                    .list_traffic_distribution_group_users()
                    .traffic_distribution_group_id(&self.group_arn)
                    .set_next_token(next.take())
                    .send()
                    .await
                {
                    Ok(page) => {
                        out.extend(
                            page.traffic_distribution_group_user_summary_list().iter().filter_map(|u| u.user_id().map(str::to_string)),
                        );
                        match page.next_token() {
                            Some(t) if !t.is_empty() => next = Some(t.to_string()),
                            _ => return Ok(out),
                        }
                    }
                    Err(e) => {
                        last = RuntimeError::Aws {
                            operation: "ListTrafficDistributionGroupUsers",
                            region: region.clone(),
                            message: sdk_message(&e),
                        };
                        continue 'regions;
                    }
                }
            }
        }
        Err(last)
    }
}

fn weights(list: Option<&[SdkDistribution]>) -> Weights {
    let mut map = BTreeMap::new();
    for d in list.unwrap_or_default() {
        map.insert(d.region().to_string(), d.percentage().max(0) as u32);
    }
    Weights(map)
}

fn sdk_distributions(w: &Weights) -> Result<Vec<SdkDistribution>> {
    w.0.iter()
        .map(|(region, pct)| {
            SdkDistribution::builder()
                .region(region)
                .percentage(i32::try_from(*pct).unwrap_or(100))
                .build()
                .map_err(|e| RuntimeError::Invalid(e.to_string()))
        })
        .collect()
}
