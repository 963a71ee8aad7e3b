//! tandem-sim: a local sandbox for the cloud APIs no other emulator serves
//! faithfully (Amazon Connect, Direct Connect, DynamoDB global table
//! replicas, VPN tunnel options), with fault and latency injection. One
//! loopback endpoint serves all of AWS for tandem; what it does not serve it
//! forwards to an upstream emulator (moto).

pub mod env;
pub mod error;

pub use env::{LatencyModel, SimEnv};
pub use error::{ApiError, Protocol};
