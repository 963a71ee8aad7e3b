//! boto3 (an independent client) drives the Global Resiliency flow:
//! tests/python/test_sim_connect.py against a sandbox started here.
mod common;

use std::path::PathBuf;

#[tokio::test]
async fn boto3_drives_the_global_resiliency_flow() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = std::env::var_os("TANDEM_VENV").map(PathBuf::from).unwrap_or_else(|| root.join(".venv"));
    if !venv.join("bin/python").exists() {
        let status = std::process::Command::new("bash").arg(root.join("scripts/python-env.sh")).status().expect("run scripts/python-env.sh");
        assert!(status.success(), "scripts/python-env.sh failed");
    }
    let (sb, _admin) = common::sandbox().await;
    let out = tokio::process::Command::new(venv.join("bin/python"))
        .arg(root.join("tests/python/test_sim_connect.py"))
        .env("TANDEM_SANDBOX_URL", sb.url())
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "test_sim_connect.py failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("test_sim_connect: ok"), "{stdout}");
}
