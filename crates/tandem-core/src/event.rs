//! What the engine tells whoever renders it. The engine never prints.

use crate::plan::Action;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Refresh,
    Create,
    Update,
    Delete,
    Import,
}

impl Op {
    pub fn doing(self) -> &'static str {
        match self {
            Op::Refresh => "refreshing",
            Op::Create => "creating",
            Op::Update => "updating",
            Op::Delete => "deleting",
            Op::Import => "importing",
        }
    }
    pub fn done(self) -> &'static str {
        match self {
            Op::Refresh => "refreshed",
            Op::Create => "created",
            Op::Update => "updated",
            Op::Delete => "deleted",
            Op::Import => "imported",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        address: String,
        op: Op,
    },
    Progress {
        address: String,
        message: String,
    },
    Finished {
        address: String,
        op: Op,
        id: Option<String>,
        seconds: f64,
    },
    Failed {
        address: String,
        op: Op,
        error: String,
        /// The error's class (`invalid`, `auth`, `transient`, ...) when the cloud gave one.
        #[serde(skip_serializing_if = "Option::is_none")]
        class: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        seconds: f64,
    },
    Skipped {
        address: String,
        action: Action,
        because: String,
    },
    StateSaved {
        serial: u64,
    },
}

impl Event {
    pub(crate) fn failed(address: &str, op: Op, e: &tandem_provider::ProviderError, seconds: f64) -> Event {
        Event::Failed {
            address: address.to_string(),
            op,
            error: e.message.clone(),
            class: Some(e.class.as_str()),
            code: e.code.clone(),
            request_id: e.request_id.clone(),
            seconds,
        }
    }
}

pub trait Reporter: Send + Sync {
    fn event(&self, event: &Event);
}

/// Discards events.
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: &Event) {}
}

/// Lets provider progress lines reach the reporter.
pub(crate) struct ProgressBridge(pub Arc<dyn Reporter>);

impl tandem_provider::Progress for ProgressBridge {
    fn message(&self, address: &str, message: String) {
        self.0.event(&Event::Progress { address: address.to_string(), message });
    }
}

/// Progress of a refresh: passes everything on and keeps the remarks (what a
/// read found that the plan should explain), by address.
pub(crate) struct RemarkRecorder {
    pub inner: Arc<dyn Reporter>,
    pub remarks: std::sync::Mutex<std::collections::BTreeMap<String, Vec<String>>>,
}

impl tandem_provider::Progress for RemarkRecorder {
    fn message(&self, address: &str, message: String) {
        self.inner.event(&Event::Progress { address: address.to_string(), message });
    }
    fn remark(&self, address: &str, message: String) {
        if let Ok(mut r) = self.remarks.lock() {
            r.entry(address.to_string()).or_default().push(message.clone());
        }
        self.message(address, message);
    }
}

pub(crate) fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 100.0).round() / 100.0
}
