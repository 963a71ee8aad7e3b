//! Where the Terraform state comes from: a local file, or the object an S3
//! backend keeps it in (`s3://BUCKET/KEY`), read with GetObject through the
//! standard AWS credential chain and endpoint variables. Reading is the only
//! call made.
//! https://developer.hashicorp.com/terraform/language/backend/s3
//! https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html

use std::path::Path;

/// `s3://bucket/key` -> (bucket, key).
pub fn s3_location(s: &str) -> Option<(&str, &str)> {
    let rest = s.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// The state's text and a name for it in messages.
pub async fn read(location: &str, s3_region: Option<&str>) -> Result<(String, String), String> {
    let Some((bucket, key)) = s3_location(location) else {
        let text = std::fs::read_to_string(Path::new(location)).map_err(|e| format!("cannot read the Terraform state {location}: {e}"))?;
        return Ok((text, location.to_string()));
    };
    let region = s3_region
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "us-east-1".into());
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).region(aws_config::Region::new(region.clone())).load().await;
    // Endpoint overrides (a local emulator) serve buckets by path, not by host name.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some())
            .build(),
    );
    let out = s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| {
        let e = aws_sdk_s3::error::DisplayErrorContext(e);
        format!("cannot read s3://{bucket}/{key} (region {region}; set --s3-region or AWS_REGION to the bucket's region): {e}")
    })?;
    let bytes = out.body.collect().await.map_err(|e| format!("cannot read s3://{bucket}/{key}: {e}"))?.into_bytes();
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| format!("s3://{bucket}/{key} is not text: not a Terraform state"))?;
    Ok((text, location.to_string()))
}
