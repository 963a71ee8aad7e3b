//! boto3 (an independent client) drives the Global Resiliency flow:
//! tests/python/test_sim_connect.py against a sandbox started here.
mod common;

#[tokio::test]
async fn boto3_drives_the_global_resiliency_flow() {
    let (sb, _admin) = common::sandbox().await;
    common::python_check("test_sim_connect", &sb.url()).await;
}
