//! tandem-sim: a local sandbox for the cloud APIs no other emulator serves
//! faithfully (Amazon Connect, Direct Connect, DynamoDB global table
//! replicas, VPN tunnel options), with fault and latency injection. One
//! loopback endpoint serves all of AWS for tandem; what it does not serve it
//! forwards to an upstream emulator (moto).

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
pub mod upstream;

pub use client::SandboxClient;
pub use env::{LatencyModel, SimEnv};
pub use error::{ApiError, Protocol};
pub use server::{run_foreground, start, Sandbox, SandboxOptions};
