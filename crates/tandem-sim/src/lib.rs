//! tandem-sim: tandem's local sandbox. One loopback HTTP endpoint stands in
//! for all of AWS and for the Compute Engine API: it serves, itself, what no
//! other emulator serves faithfully to the SDKs tandem uses, and forwards
//! everything else unchanged to an upstream emulator (moto, `upstream`),
//! with latency, faults, region outages and eventual consistency injected
//! and every call counted. docs/sandbox.md describes it for users.
//!
//! Served here, per service:
//! - Amazon Connect, restJson1 (`connect`): instances, Global Resiliency
//!   (replicas, traffic distribution groups and their agents, objects
//!   mirrored between regions), phone numbers, contact-center objects;
//! - AWS Direct Connect (`directconnect`): hosted connections, gateways,
//!   associations, private virtual interfaces;
//! - DynamoDB global table replicas and their item replication
//!   (`dynamodb`), on top of upstream's tables;
//! - EC2: VPN tunnel options (`ec2`), route propagation (`ec2_routes`) and
//!   the not-found window after a create (`ec2_consistency`), on top of
//!   upstream's answers;
//! - CloudWatch alarms, metric data and dashboards over RPC v2 CBOR and
//!   awsJson 1.0 (`cloudwatch`);
//! - Lambda functions run from their packages, EventBridge schedules fired
//!   and Kinesis event source mappings delivered (`lambda`);
//! - S3 conditional writes made atomic (one write at a time to upstream);
//! - Compute Engine v1: networks, subnetworks, firewalls, routers, HA VPN,
//!   Partner Interconnect attachments and their operations (`gcp`).
//!
//! Around them: the HTTP server (`server`: identify, count and fault each
//! call, dispatch it, forward it, answer in its wire format), faults and
//! outages (`faults`), latency and consistency (`latency`, `env`), call
//! accounting (`accounting`), the `/_tandem` admin API (`admin`, its client
//! [`SandboxClient`]), AWS error bodies (`error`) and the helpers the
//! services share (`support`).

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
