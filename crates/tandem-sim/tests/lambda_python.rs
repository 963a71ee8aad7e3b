//! boto3 (an independent client) runs functions in the sandbox: the Lambda
//! Runtime API (responses, errors, timeouts, init failures, crashes), Event
//! and DryRun invocations, EventBridge schedules on a scaled clock, Kinesis
//! event source mappings (order, retries): tests/python/test_sim_lambda.py
//! against a sandbox with moto upstream started here.
mod common;

#[tokio::test]
async fn boto3_runs_functions_schedules_and_kinesis_mappings() {
    let sb = tandem_sim::start(tandem_sim::SandboxOptions { moto: true, ..Default::default() })
        .await
        .expect("the sandbox starts with moto (scripts/python-env.sh)");
    common::python_check("test_sim_lambda", &sb.url()).await;
}
