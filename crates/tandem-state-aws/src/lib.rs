//! tandem's state on AWS: the S3 backend ([`S3Backend`]) and KMS data keys
//! ([`KmsKeys`]). The engine never sees these types: it talks to
//! [`tandem_state::Backend`] and [`tandem_state::KeyProvider`].

mod kms;
mod s3;

pub use kms::KmsKeys;
pub use s3::{S3Backend, S3Config};

use aws_config::{BehaviorVersion, Region};

/// The SDK configuration for `region` from the standard chain (profiles,
/// SSO, environment, IMDS; `AWS_ENDPOINT_URL` and
/// `AWS_ENDPOINT_URL_S3`/`_KMS` honoured), optionally at `endpoint`.
pub async fn sdk_config(region: &str, endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_string()));
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
