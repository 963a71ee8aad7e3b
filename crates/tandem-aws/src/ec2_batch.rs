//! Batched reads of EC2 kinds: a refresh group (one kind, one region: see
//! `ResourceKind::read_many`) answered by one describe call instead of one
//! call per resource. The describes of VPCs, subnets, customer gateways,
//! virtual private gateways and VPN connections all take many ids or an
//! id filter.

use crate::AwsContext;
use std::collections::BTreeMap;
use tandem_provider::{Ctx, Observed, ProviderError, Result};

/// Resources one batched describe reads (the values of one id filter):
/// kept modest so a query string stays small; larger groups go in several
/// calls.
pub(crate) const READ_BATCH: usize = 100;

/// A group's answers, one per item in the items' order.
pub(crate) type Answers = Vec<Result<Option<Observed>>>;

/// The region of a group and its EC2 client, or the answers when the group
/// cannot be read at all (no region).
pub(crate) async fn client(aws: &AwsContext, items: &[(Ctx, String)]) -> std::result::Result<(String, aws_sdk_ec2::Client), Answers> {
    let Some((first, _)) = items.first() else { return Err(Vec::new()) };
    match first.region() {
        Ok(r) => Ok((r.to_string(), aws.ec2(r).await)),
        Err(e) => Err(failed(items, e)),
    }
}

/// The ids of a group, for the id filter.
pub(crate) fn ids(items: &[(Ctx, String)]) -> Vec<String> {
    items.iter().map(|(_, id)| id.clone()).collect()
}

/// Every item failed with `e` (the engine reads each again on its own when
/// `e` is worth a retry).
pub(crate) fn failed(items: &[(Ctx, String)], e: ProviderError) -> Answers {
    items.iter().map(|_| Err(e.clone())).collect()
}

/// Answers in the items' order: what the describe found, and `None` (gone)
/// for an id it left out. An id filter leaves out what does not exist,
/// where an unknown id in the ids list fails the whole call.
pub(crate) fn in_order(items: &[(Ctx, String)], mut found: BTreeMap<String, Observed>) -> Answers {
    items.iter().map(|(_, id)| Ok(found.remove(id))).collect()
}
