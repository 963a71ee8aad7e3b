//! The kinds that deploy the failover controller (IAM role, Lambda function,
//! its invoke permission, the EventBridge schedule) through the
//! `ResourceKind` trait, against the sandbox with moto behind it, checked
//! with boto3.

mod connect_common;

use connect_common::{boto3, changed, ctx, kind, props, sandbox, SOURCE};
use serde_json::{json, Map, Value};
use tandem_provider::{ErrorClass, Observed};

fn out(o: &Observed, name: &str) -> String {
    o.outputs.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("output {name} in {:?}", o.outputs)).to_string()
}

fn satisfies(env: &connect_common::Env, kind_name: &str, desired: &Map<String, Value>, current: &Map<String, Value>) -> bool {
    let k = kind(&env.aws, kind_name);
    tandem_core::plan::diff_fields(k.schema(), desired, &Default::default(), current, desired).is_empty()
}

/// A zip holding `bootstrap` with `body`, and its base64 SHA-256 (Lambda's CodeSha256).
fn zip(dir: &std::path::Path, name: &str, body: &str) -> (String, String) {
    let path = dir.join(name);
    let script = "import sys, zipfile, hashlib, base64\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.writestr('bootstrap', sys.argv[2])\nprint(base64.b64encode(hashlib.sha256(open(sys.argv[1], 'rb').read()).digest()).decode())";
    let o = std::process::Command::new(tandem_test::venv_bin("python"))
        .arg("-c")
        .arg(script)
        .arg(&path)
        .arg(body)
        .output()
        .expect("python runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (path.display().to_string(), String::from_utf8_lossy(&o.stdout).trim().to_string())
}

const TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

fn policy(actions: &[&str]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
}

#[tokio::test]
async fn controller_deployment_kinds_lifecycle() {
    let env = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let (role_k, fn_k, perm_k, rule_k) = (
        kind(&env.aws, "aws.iam.role"),
        kind(&env.aws, "aws.lambda.function"),
        kind(&env.aws, "aws.lambda.permission"),
        kind(&env.aws, "aws.events.rule"),
    );

    // Role: trust policy as JSON text, inline policy as a mapping; both compare by meaning.
    let rc = tandem_provider::Ctx::quiet("failover_role", None);
    let rp = props(json!({"role_name": "failover-controller", "assume_role_policy": TRUST,
        "inline_policies": [{"name": "connect", "document": policy(&["connect:GetTrafficDistribution", "connect:UpdateTrafficDistribution"])}], "tags": {"app": "tandem"}}));
    let role = role_k.create(&rc, &rp).await.unwrap();
    assert!(satisfies(&env, "aws.iam.role", &rp, &role.properties), "{:?}", role.properties);
    let role_arn = out(&role, "arn");
    assert!(role_arn.ends_with(":role/failover-controller"), "{role_arn}");
    let mut rp2 = rp.clone();
    rp2.insert("inline_policies".into(), json!([{"name": "cloudwatch", "document": policy(&["cloudwatch:DescribeAlarms"])}]));
    let role2 = role_k.update(&rc, &role.id, &role.properties, &rp2, &changed(&["inline_policies"])).await.unwrap();
    assert!(satisfies(&env, "aws.iam.role", &rp2, &role2.properties), "{:?}", role2.properties);
    let e = role_k.create(&tandem_provider::Ctx::quiet("someone_else", None), &rp).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict, "{e:?}");
    assert!(e.message.contains("tandem import someone_else failover-controller"), "{e:?}");

    // Function from a zip; a new zip is a code update, seen as CodeSha256.
    let fc = ctx("failover_fn", SOURCE);
    let (zip1, sha1) = zip(dir.path(), "v1.zip", "#!/bin/sh\necho v1\n");
    let fp = props(
        json!({"function_name": "failover-controller", "role": role_arn, "zip_file": zip1, "source_code_hash": sha1, "timeout": 50, "memory_size": 256,
        "environment": {"TANDEM_PRIMARY_REGION": "us-east-1", "TANDEM_SECONDARY_REGION": "us-west-2"}}),
    );
    let f = fn_k.create(&fc, &fp).await.unwrap();
    assert_eq!(out(&f, "code_sha256"), sha1);
    let mut fp_read = fp.clone();
    fp_read.remove("zip_file");
    assert!(satisfies(&env, "aws.lambda.function", &fp_read, &f.properties), "{:?}", f.properties);
    assert_eq!(f.properties["runtime"], "provided.al2023");
    assert_eq!(f.properties["handler"], "bootstrap");
    let (zip2, sha2) = zip(dir.path(), "v2.zip", "#!/bin/sh\necho v2\n");
    let mut fp2 = fp.clone();
    fp2.insert("zip_file".into(), json!(zip2));
    fp2.insert("source_code_hash".into(), json!(sha2));
    fp2.insert("timeout".into(), json!(55));
    let f2 = fn_k.update(&fc, &f.id, &f.properties, &fp2, &changed(&["source_code_hash", "zip_file", "timeout"])).await.unwrap();
    assert_eq!(out(&f2, "code_sha256"), sha2, "the new zip is deployed");
    assert_eq!(f2.properties["timeout"], 55);
    let fn_arn = out(&f, "arn");

    // The schedule and the permission that lets it invoke the function.
    let sc = ctx("failover_schedule", SOURCE);
    let sp = props(
        json!({"name": "failover-controller-every-minute", "schedule_expression": "rate(1 minute)", "description": "One controller pass a minute",
        "targets": [{"id": "controller", "arn": fn_arn, "input": {"source": "schedule"}}]}),
    );
    let rule = rule_k.create(&sc, &sp).await.unwrap();
    assert!(satisfies(&env, "aws.events.rule", &sp, &rule.properties), "{:?}", rule.properties);
    assert_eq!(rule.properties["state"], "ENABLED");
    let mut sp2 = sp.clone();
    sp2.insert("schedule_expression".into(), json!("rate(2 minutes)"));
    sp2.insert("state".into(), json!("DISABLED"));
    let rule2 = rule_k.update(&sc, &rule.id, &rule.properties, &sp2, &changed(&["schedule_expression", "state"])).await.unwrap();
    assert!(satisfies(&env, "aws.events.rule", &sp2, &rule2.properties), "{:?}", rule2.properties);
    let pc = ctx("failover_invoke", SOURCE);
    let pp = props(json!({"function_name": "failover-controller", "statement_id": "events-invoke", "source_arn": out(&rule, "arn")}));
    let perm = perm_k.create(&pc, &pp).await.unwrap();
    assert!(satisfies(&env, "aws.lambda.permission", &pp, &perm.properties), "{:?}", perm.properties);
    assert_eq!(perm.id, "failover-controller/events-invoke");

    // boto3 sees the same deployment.
    let seen = boto3(
        &env.sandbox.url(),
        "iam = c('iam'); lam = c('lambda'); ev = c('events')\n\
         print(json.dumps({'policies': iam.list_role_policies(RoleName='failover-controller')['PolicyNames'],\n\
           'sha': lam.get_function(FunctionName='failover-controller')['Configuration']['CodeSha256'],\n\
           'targets': [t['Arn'] for t in ev.list_targets_by_rule(Rule='failover-controller-every-minute')['Targets']],\n\
           'schedule': ev.describe_rule(Name='failover-controller-every-minute')['ScheduleExpression'],\n\
           'sids': [s['Sid'] for s in json.loads(lam.get_policy(FunctionName='failover-controller')['Policy'])['Statement']]}))",
    )
    .await;
    assert_eq!(
        seen,
        json!({"policies": ["cloudwatch"], "sha": sha2, "targets": [fn_arn], "schedule": "rate(2 minutes)", "sids": ["events-invoke"]})
    );

    // Import by name; delete dependents first; gone reads as None; deleting again succeeds.
    assert_eq!(out(&fn_k.import(&fc, "failover-controller").await.unwrap().unwrap(), "arn"), fn_arn);
    perm_k.delete(&pc, &perm.id, &Map::new()).await.unwrap();
    assert!(perm_k.read(&pc, &perm.id).await.unwrap().is_none());
    rule_k.delete(&sc, &rule.id, &Map::new()).await.unwrap();
    assert!(rule_k.read(&sc, &rule.id).await.unwrap().is_none());
    fn_k.delete(&fc, &f.id, &Map::new()).await.unwrap();
    assert!(fn_k.read(&fc, &f.id).await.unwrap().is_none());
    role_k.delete(&rc, &role.id, &Map::new()).await.unwrap();
    assert!(role_k.read(&rc, &role.id).await.unwrap().is_none());
    for (k, id) in [(&perm_k, &perm.id), (&rule_k, &rule.id), (&fn_k, &f.id), (&role_k, &role.id)] {
        k.delete(&ctx("x", SOURCE), id, &Map::new()).await.unwrap_or_else(|e| panic!("deleting {id} again: {e:?}"));
    }
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn deployment_kinds_are_checked_before_any_call() {
    let env = sandbox().await;
    let problems = |k: &str, p: Value| -> Vec<String> {
        kind(&env.aws, k).validate(Some(SOURCE), &props(p)).into_iter().map(|i| format!("{}: {}", i.field, i.message)).collect()
    };
    let role = problems(
        "aws.iam.role",
        json!({"role_name": "r", "assume_role_policy": "{not json", "inline_policies": [{"name": "p", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}}]}),
    );
    assert!(role.iter().any(|m| m.starts_with("assume_role_policy: the policy is not JSON")), "{role:?}");
    assert!(role.iter().any(|m| m.contains("p: Statement[0] needs `Effect: Allow` or `Effect: Deny`")), "{role:?}");
    let version = problems("aws.iam.role", json!({"role_name": "r", "assume_role_policy": {"Statement": []}}));
    assert!(version.iter().any(|m| m.contains("2012-10-17")), "{version:?}");
    let rule = problems("aws.events.rule", json!({"name": "r", "schedule_expression": "rate(1 minutes)"}));
    assert!(rule.iter().any(|m| m.contains("the unit must be minute, hour or day")), "{rule:?}");
    let neither = problems("aws.events.rule", json!({"name": "r"}));
    assert!(neither.iter().any(|m| m.contains("needs a schedule_expression or an event_pattern")), "{neither:?}");
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn event_source_mapping_lifecycle() {
    let env = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let role = kind(&env.aws, "aws.iam.role")
        .create(&tandem_provider::Ctx::quiet("r", None), &props(json!({"role_name": "sync", "assume_role_policy": TRUST})))
        .await
        .unwrap();
    let (zip1, sha1) = zip(dir.path(), "f.zip", "#!/bin/sh\nexit 0\n");
    let f = kind(&env.aws, "aws.lambda.function")
        .create(
            &ctx("f", SOURCE),
            &props(json!({"function_name": "sync", "role": out(&role, "arn"), "zip_file": zip1, "source_code_hash": sha1})),
        )
        .await
        .unwrap();
    let stream = kind(&env.aws, "aws.kinesis.stream")
        .create(&ctx("s", SOURCE), &props(json!({"stream_name": "agent-events", "shard_count": 1})))
        .await
        .unwrap();
    let esm = kind(&env.aws, "aws.lambda.event_source_mapping");
    let c = ctx("feed", SOURCE);
    let p = props(
        json!({"function_name": out(&f, "id"), "event_source_arn": out(&stream, "arn"), "starting_position": "TRIM_HORIZON", "batch_size": 50, "bisect_batch_on_function_error": true}),
    );
    let m = esm.create(&c, &p).await.unwrap();
    assert_eq!(out(&m, "state"), "Enabled");
    assert!(satisfies(&env, "aws.lambda.event_source_mapping", &p, &m.properties), "{:?}", m.properties);
    // A re-run after a crash adopts the mapping of that function and stream.
    assert_eq!(esm.create(&c, &p).await.unwrap().id, m.id);
    // boto3 sees it.
    let seen =
        boto3(&env.sandbox.url(), &format!("print(json.dumps(c('lambda').get_event_source_mapping(UUID='{}')['BatchSize']))", m.id)).await;
    assert_eq!(seen, json!(50));
    let mut p2 = p.clone();
    p2.insert("batch_size".into(), json!(10));
    p2.insert("enabled".into(), json!(false));
    let m2 = esm.update(&c, &m.id, &m.properties, &p2, &changed(&["batch_size", "enabled"])).await.unwrap();
    assert!(satisfies(&env, "aws.lambda.event_source_mapping", &p2, &m2.properties), "{:?}", m2.properties);
    assert_eq!(out(&m2, "state"), "Disabled");
    let e = esm.update(&c, &m.id, &m2.properties, &p2, &changed(&["starting_position"])).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    esm.delete(&c, &m.id, &p2).await.unwrap();
    assert!(esm.read(&c, &m.id).await.unwrap().is_none());
    esm.delete(&c, &m.id, &p2).await.unwrap();
}
