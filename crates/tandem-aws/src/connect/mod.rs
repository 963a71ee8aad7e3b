//! Amazon Connect resource kinds, one module per kind, and the DynamoDB
//! global table the contact center keeps agent state in.
//!
//! Each module adds its kind to [`kinds`]; nothing else in the crate needs to
//! change when a kind is added.

use crate::AwsContext;
use std::sync::Arc;
use tandem_provider::ResourceKind;

pub(crate) fn kinds(aws: Arc<AwsContext>) -> Vec<Arc<dyn ResourceKind>> {
    let _ = &aws;
    vec![]
}
