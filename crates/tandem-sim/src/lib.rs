//! tandem-sim: a local sandbox for what no other emulator serves
//! faithfully to the Rust SDK, with fault and latency injection. One
//! loopback endpoint serves all of AWS (and the GCP Compute API) for tandem;
//! what it does not serve it forwards to an upstream emulator (moto).
//!
//! It serves Amazon Connect (with Global Resiliency: replicas, traffic
//! distribution groups, agents in groups, mirrored objects), Direct Connect,
//! DynamoDB global table replicas and their item replication, EC2 VPN tunnel
//! options and route propagation (`ec2*`), CloudWatch alarms, metrics and
//! dashboards (Smithy RPC v2 CBOR), Lambda functions run from their zips
//! with EventBridge schedules and Kinesis event source mappings (`lambda`),
//! and the Compute Engine v1 API of tandem's GCP kinds (`gcp`). Around them:
//! outages and faults (`faults`), latency (`latency`), eventual consistency,
//! call accounting (`accounting`) and the `/_tandem` admin API (`admin`,
//! [`SandboxClient`]).

pub mod accounting;
pub mod admin;
pub mod client;
pub mod cloudwatch;
pub mod connect;
pub mod directconnect;
pub mod dynamodb;
pub mod ec2;
pub mod ec2_consistency;
pub mod ec2_routes;
pub mod env;
pub mod error;
pub mod faults;
pub mod gcp;
pub mod lambda;
pub mod latency;
pub mod server;
mod support;
pub mod upstream;

pub use client::SandboxClient;
pub use env::{LatencyModel, SimEnv};
pub use error::{ApiError, Protocol};
pub use server::{run_foreground, start, Sandbox, SandboxOptions};
