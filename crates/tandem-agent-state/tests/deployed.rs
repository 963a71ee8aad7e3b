//! The real `agent-state` binary as a Lambda function in the sandbox, fed by a
//! Kinesis mapping, writing the global table, judged by boto3
//! (tests/python/test_agent_state_sync.py).

#[tokio::test]
async fn agent_events_reach_the_global_table_in_both_regions_newest_first() {
    let sb = tandem_sim::start(tandem_sim::SandboxOptions { moto: true, ..Default::default() })
        .await
        .expect("the sandbox starts with moto (scripts/python-env.sh)");
    let run = tokio::process::Command::new(tandem_test::venv_bin("python"))
        .arg(tandem_test::root().join("tests/python/test_agent_state_sync.py"))
        .env("TANDEM_SANDBOX_URL", sb.url())
        .env("AGENT_STATE_BOOTSTRAP", env!("CARGO_BIN_EXE_agent-state"))
        .env_remove("AWS_PROFILE")
        .output();
    let out =
        tokio::time::timeout(std::time::Duration::from_secs(180), run).await.expect("python finishes in 3 minutes").expect("python runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("test_agent_state_sync: ok"), "stdout:\n{stdout}\nstderr:\n{stderr}");
}
