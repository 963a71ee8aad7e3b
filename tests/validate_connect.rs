//! `tandem validate` through the real binary, with no cloud at all: the
//! Connect Global Resiliency rules a real account enforces, caught before any
//! call (ReplicateInstance's InvalidRequestException cases, the traffic
//! distribution group's needs and 10% rule, routing declared against the
//! replica, passwords on a SAML instance).

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod support;
use support::{root, text};

/// The reference spec (edited by `edit`), its var file and the files it reads.
fn reference_dir(edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string(root().join("specs/active-active.yaml")).unwrap();
    let edited = edit(spec.clone());
    std::fs::write(dir.path().join("active-active.yaml"), edited).unwrap();
    std::fs::copy(root().join("specs/active-active.vars.yaml"), dir.path().join("active-active.vars.yaml")).unwrap();
    std::fs::create_dir_all(dir.path().join("flows")).unwrap();
    for entry in std::fs::read_dir(root().join("specs/flows")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join("flows").join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("controller.zip"), b"PK").unwrap();
    std::fs::write(dir.path().join("agent-state.zip"), b"PK").unwrap();
    dir
}

fn validate(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "validate",
        "--spec",
        "active-active.yaml",
        "--var-file",
        "active-active.vars.yaml",
        "--var",
        "controller_zip=controller.zip",
        "--var",
        "agent_state_zip=agent-state.zip",
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(&args)
        .current_dir(dir)
        // Nothing is called: endpoints that would fail if anything tried.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("TANDEM_GCP_ENDPOINT", "http://127.0.0.1:9")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Refused (exit 3) with every `needle` in the report.
fn refused(o: &Output, needles: &[&str]) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{}{err}", text(&o.stdout));
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in:\n{err}");
    }
}

fn replace(s: String, from: &str, to: &str) -> String {
    assert!(s.contains(from), "the reference spec has {from:?}");
    s.replacen(from, to, 1)
}

#[test]
fn the_reference_spec_is_valid() {
    let dir = reference_dir(|s| s);
    let o = validate(dir.path(), &[]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
}

#[test]
fn a_region_pair_global_resiliency_does_not_allow_is_refused() {
    let dir = reference_dir(|s| s);
    let o = validate(dir.path(), &["--var", "secondary_region=eu-west-1"]);
    refused(
        &o,
        &[
            "active-active.yaml:",
            "cannot replicate an instance from us-east-1 to eu-west-1",
            "from us-east-1 the replica region must be us-west-2",
        ],
    );
    let o = validate(dir.path(), &["--var", "primary_region=ap-northeast-3", "--var", "secondary_region=ap-northeast-1"]);
    refused(&o, &["cannot replicate an instance from ap-northeast-3 to ap-northeast-1", "ap-northeast-3 is not a source region"]);
}

#[test]
fn replicating_needs_saml_and_an_alias() {
    let dir = reference_dir(|s| replace(s, "identity_management_type: SAML", "identity_management_type: CONNECT_MANAGED"));
    let o = validate(dir.path(), &[]);
    refused(
        &o,
        &[
            "`connect_instance` uses CONNECT_MANAGED identity management, but Global Resiliency replicates only SAML instances",
            "set `identity_management_type: SAML` on `connect_instance`",
            // Its agents would then need passwords.
            "so a user needs a `password`",
        ],
    );
    let dir = reference_dir(|s| replace(s, "      instance_alias: ${var.primary_connect_instance_alias}\n", ""));
    refused(
        &validate(dir.path(), &[]),
        &["`connect_instance` has no instance_alias, and an instance without an alias cannot be replicated"],
    );
}

#[test]
fn a_group_needs_its_instance_replicated_first() {
    let dir = reference_dir(|s| replace(s, "    depends_on: [connect_replica]\n", ""));
    refused(&validate(dir.path(), &[]), &["the group can only be made once `connect_replica` exists: add `depends_on: [connect_replica]`"]);
    // Without a replica at all (and nothing else referring to it).
    let dir = reference_dir(|s| {
        let start = s.find("  connect_replica:\n").unwrap();
        let end = s.find("  traffic_distribution_group:\n").unwrap();
        let s = format!("{}{}", &s[..start], &s[end..]);
        let s = s.replace("    depends_on: [connect_replica]\n", "");
        s.replace("${connect_replica.", "${connect_instance.")
    });
    refused(
        &validate(dir.path(), &[]),
        &["`connect_instance` has no aws.connect.replica in this spec, and a traffic distribution group needs a replicated instance"],
    );
}

#[test]
fn distributions_are_checked_at_validate() {
    let dir = reference_dir(|s| s);
    let o = validate(dir.path(), &["--var", "default_traffic_distribution=55", "--var", "secondary_traffic_distribution=45"]);
    refused(&o, &["telephony_config: percentage 55 for us-east-1 must be 0 to 100 in increments of 10"]);
    let o = validate(dir.path(), &["--var", "default_traffic_distribution=60"]);
    refused(&o, &["percentages sum to 110, not 100"]);
}

#[test]
fn routing_declared_against_the_replica_is_refused_with_the_fix() {
    let dir = reference_dir(|s| {
        let start = s.find("  queue_sales:\n").unwrap();
        let end = start + s[start..].find("  after_hours_flow:\n").unwrap();
        let block = s[start..end].replace("${connect_instance.id}", "${connect_replica.id}");
        format!("{}{}{}", &s[..start], block, &s[end..])
    });
    refused(
        &validate(dir.path(), &[]),
        &[
            "`instance_id` refers to `connect_replica`, a aws.connect.replica, but it takes an aws.connect.instance",
            "Declare the object once: Global Resiliency copies it to the replica",
        ],
    );
}

#[test]
fn a_saml_instance_user_has_no_password() {
    let dir = reference_dir(|s| replace(s, "      username: alice\n", "      username: alice\n      password: Secret-pass-1\n"));
    refused(
        &validate(dir.path(), &[]),
        &["`connect_instance` signs users in through SAML: CreateUser refuses a password; remove `password`"],
    );
}
