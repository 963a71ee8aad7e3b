//! The GCP kinds against the sandbox's Compute Engine API, through the
//! official google-cloud-compute-v1 clients (endpoint override, anonymous
//! credentials): create / read / update / delete, operations waited on,
//! Google's errors turned into the engine's, and concurrent BGP peers on one
//! Cloud Router.

use futures::future::join_all;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tandem_gcp::GcpContext;
use tandem_provider::{Ctx, ErrorClass, ResourceKind};
use tandem_sim::{Sandbox, SandboxClient, SandboxOptions};

const PROJECT: &str = "tandem-test";
const REGION: &str = "us-east4";

struct Env {
    sandbox: Sandbox,
    admin: SandboxClient,
    gcp: Arc<GcpContext>,
}

async fn env() -> Env {
    let sandbox = tandem_sim::start(SandboxOptions::default()).await.expect("the sandbox starts");
    let admin = SandboxClient::new(sandbox.url());
    let gcp = Arc::new(GcpContext::with_endpoint(sandbox.url()));
    Env { sandbox, admin, gcp }
}

impl Env {
    fn kind(&self, type_name: &str) -> Arc<dyn ResourceKind> {
        tandem_gcp::kinds(self.gcp.clone()).into_iter().find(|k| k.schema().type_name == type_name).expect("kind is registered")
    }
    /// Operations take `ms` (PENDING -> RUNNING -> DONE) for these kinds.
    async fn latency(&self, kinds: &[&str], ms: u64) {
        let mut l = self.admin.latency().await.unwrap();
        for k in kinds {
            l.rules.push(serde_json::from_value(json!({"service": "compute", "kind": k, "creation_ms": ms, "deletion_ms": ms})).unwrap());
        }
        self.admin.set_latency(&l).await.unwrap();
    }
}

fn ctx(address: &str, region: Option<&str>) -> Ctx {
    let mut c = Ctx::quiet(address, region);
    c.timeout = Duration::from_secs(60);
    c
}

fn props(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("props must be an object, got {other}"),
    }
}

fn changed(f: &[&str]) -> Vec<String> {
    f.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn network_subnetwork_firewall_lifecycle() {
    let e = env().await;
    // Operations that take time, so waiting is exercised.
    e.latency(&["network", "subnetwork", "firewall"], 300).await;
    let network = e.kind("gcp.compute.network");
    let nc = ctx("net", None);
    let np = props(json!({"project": PROJECT, "name": "cc", "routing_mode": "GLOBAL"}));
    let net = network.create(&nc, &np).await.unwrap();
    assert_eq!(net.id, "projects/tandem-test/global/networks/cc");
    assert_eq!(net.properties["routing_mode"], "GLOBAL");
    assert_eq!(net.properties["mtu"], 1460, "GCP's default MTU is read back");
    let link = net.outputs["self_link"].as_str().unwrap().to_string();
    assert!(link.ends_with("/compute/v1/projects/tandem-test/global/networks/cc"), "{link}");
    assert_eq!(network.read(&nc, &net.id).await.unwrap().unwrap().properties, net.properties);
    assert_eq!(network.import(&nc, &link).await.unwrap().unwrap().id, net.id, "import takes a self link too");

    // A name taken already is not adopted silently.
    let dup = network.create(&nc, &np).await.unwrap_err();
    assert_eq!((dup.class, dup.code.as_deref()), (ErrorClass::Conflict, Some("alreadyExists")), "{dup}");
    assert!(dup.message.contains("tandem import net projects/tandem-test/global/networks/cc"), "{dup}");

    // Routing mode changes in place.
    let mut np2 = np.clone();
    np2.insert("routing_mode".into(), json!("REGIONAL"));
    let up = network.update(&nc, &net.id, &np, &np2, &changed(&["routing_mode"])).await.unwrap();
    assert_eq!(up.properties["routing_mode"], "REGIONAL");

    let subnetwork = e.kind("gcp.compute.subnetwork");
    let sc = ctx("subnet", Some(REGION));
    let sp = props(json!({"project": PROJECT, "name": "cc-east", "network": link, "ip_cidr_range": "10.20.0.0/20"}));
    let sub = subnetwork.create(&sc, &sp).await.unwrap();
    assert_eq!(sub.id, "projects/tandem-test/regions/us-east4/subnetworks/cc-east");
    assert_eq!(sub.outputs["gateway_address"], "10.20.0.1");
    assert_eq!(sub.properties["private_ip_google_access"], false);
    // The fingerprinted patch.
    let mut sp2 = sp.clone();
    sp2.insert("private_ip_google_access".into(), json!(true));
    let s2 = subnetwork.update(&sc, &sub.id, &sp, &sp2, &changed(&["private_ip_google_access"])).await.unwrap();
    assert_eq!(s2.properties["private_ip_google_access"], true);
    let bad = subnetwork.update(&sc, &sub.id, &sp, &sp2, &changed(&["ip_cidr_range"])).await.unwrap_err();
    assert_eq!(bad.class, ErrorClass::Invalid, "{bad}");

    let firewall = e.kind("gcp.compute.firewall");
    let fc = ctx("fw", None);
    let fp = props(json!({"project": PROJECT, "name": "allow-aws", "network": link, "source_ranges": ["10.0.0.0/16"],
        "allowed": [{"ip_protocol": "tcp", "ports": ["443", "5060-5061"]}, {"ip_protocol": "icmp"}]}));
    let fw = firewall.create(&fc, &fp).await.unwrap();
    assert_eq!(fw.properties["allowed"], fp["allowed"]);
    assert_eq!((fw.properties["direction"].as_str(), fw.properties["priority"].as_i64()), (Some("INGRESS"), Some(1000)));
    let mut fp2 = fp.clone();
    fp2.insert("source_ranges".into(), json!(["10.0.0.0/16", "10.1.0.0/16"]));
    fp2.insert("priority".into(), json!(900));
    let fw2 = firewall.update(&fc, &fw.id, &fp, &fp2, &changed(&["source_ranges", "priority"])).await.unwrap();
    assert_eq!(
        (fw2.properties["source_ranges"].clone(), fw2.properties["priority"].clone()),
        (json!(["10.0.0.0/16", "10.1.0.0/16"]), json!(900))
    );

    // The network cannot go while the subnetwork and the rule use it; GCP's reason is kept.
    // Every mutation carries a request id (Operation.clientOperationId echoes it), so a retry after a lost answer is not a second change.
    let op = e
        .gcp
        .insert(
            &nc,
            tandem_gcp::Coll::Networks,
            &tandem_gcp::Path { project: PROJECT.into(), region: None, name: "other".into() },
            json!({"name": "other", "autoCreateSubnetworks": false}),
        )
        .await
        .unwrap();
    assert_eq!((op["status"].as_str(), op["clientOperationId"].as_str().map(str::len)), (Some("DONE"), Some(36)), "{op}");
    network.delete(&nc, "projects/tandem-test/global/networks/other", &np).await.unwrap();
    let busy = network.delete(&nc, &net.id, &np).await.unwrap_err();
    assert_eq!((busy.class, busy.code.as_deref()), (ErrorClass::Conflict, Some("resourceInUseByAnotherResource")), "{busy}");
    firewall.delete(&fc, &fw.id, &fp).await.unwrap();
    subnetwork.delete(&sc, &sub.id, &sp).await.unwrap();
    assert!(subnetwork.read(&sc, &sub.id).await.unwrap().is_none(), "delete waits until gone");
    network.delete(&nc, &net.id, &np).await.unwrap();
    network.delete(&nc, &net.id, &np).await.unwrap();
    assert!(network.read(&nc, &net.id).await.unwrap().is_none());
    let wrong = network.read(&nc, "projects/p/regions/r/routers/x").await.unwrap_err();
    assert_eq!(wrong.class, ErrorClass::Invalid);
    e.sandbox.shutdown().await;
}

/// Eight BGP peers on one Cloud Router at once, while every router change
/// takes a moment (resourceNotReady for whoever comes next): none is lost.
#[tokio::test]
async fn concurrent_peers_on_one_router_all_land() {
    let e = env().await;
    e.latency(&["router_update"], 60).await;
    let net = e.kind("gcp.compute.network").create(&ctx("net", None), &props(json!({"project": PROJECT, "name": "cc"}))).await.unwrap();
    let link = net.outputs["self_link"].clone();
    let router = e.kind("gcp.compute.router");
    let rc = ctx("router", Some(REGION));
    let rp = props(json!({"project": PROJECT, "name": "cc-vpn", "network": link, "asn": 65010}));
    let r = router.create(&rc, &rp).await.unwrap();
    assert_eq!(r.outputs["asn"], 65010);
    let rlink = r.outputs["self_link"].as_str().unwrap().to_string();

    let peer = e.kind("gcp.compute.router_peer");
    let p = |i: u8| {
        props(json!({"project": PROJECT, "router": rlink, "name": format!("aws-{i}"), "ip_range": format!("169.254.{}.2/30", 20 + i),
            "peer_ip_address": format!("169.254.{}.1", 20 + i), "peer_asn": 64512}))
    };
    let made = join_all((0..8u8).map(|i| {
        let (peer, p) = (peer.clone(), p(i));
        async move { peer.create(&ctx(&format!("bgp_{i}"), Some(REGION)), &p).await }
    }))
    .await;
    let ids: Vec<String> = made.into_iter().map(|m| m.expect("every peer is made").id).collect();
    let all = router.read(&rc, &r.id).await.unwrap().unwrap();
    assert_eq!(all.properties["asn"], 65010);
    for (i, id) in ids.iter().enumerate() {
        let got = peer.read(&ctx("x", Some(REGION)), id).await.unwrap().unwrap_or_else(|| panic!("{id} was lost"));
        assert_eq!(got.properties["ip_range"], p(i as u8)["ip_range"]);
        assert_eq!(got.outputs["ip_address"], format!("169.254.{}.2", 20 + i));
    }

    // The router's own change (custom advertisements) leaves the peers alone.
    let mut rp2 = rp.clone();
    rp2.insert("advertise_mode".into(), json!("CUSTOM"));
    rp2.insert("advertised_groups".into(), json!(["ALL_SUBNETS"]));
    rp2.insert("advertised_ip_ranges".into(), json!([{"range": "10.20.0.0/20"}]));
    let r2 =
        router.update(&rc, &r.id, &rp, &rp2, &changed(&["advertise_mode", "advertised_groups", "advertised_ip_ranges"])).await.unwrap();
    assert_eq!(r2.properties["advertised_ip_ranges"], json!([{"range": "10.20.0.0/20"}]));
    assert!(peer.read(&ctx("x", Some(REGION)), &ids[7]).await.unwrap().is_some());

    // An in-place change of one peer; half of them deleted at once.
    let mut p1 = p(1);
    p1.insert("peer_asn".into(), json!(64600));
    p1.insert("advertised_route_priority".into(), json!(200));
    let u =
        peer.update(&ctx("bgp_1", Some(REGION)), &ids[1], &p(1), &p1, &changed(&["peer_asn", "advertised_route_priority"])).await.unwrap();
    assert_eq!((u.properties["peer_asn"].clone(), u.properties["advertised_route_priority"].clone()), (json!(64600), json!(200)));
    let gone = join_all((0..4usize).map(|i| {
        let (peer, id, pp) = (peer.clone(), ids[i * 2].clone(), p((i * 2) as u8));
        async move { peer.delete(&ctx("x", Some(REGION)), &id, &pp).await }
    }))
    .await;
    assert!(gone.iter().all(Result::is_ok), "{gone:?}");
    for (i, id) in ids.iter().enumerate() {
        let there = peer.read(&ctx("x", Some(REGION)), id).await.unwrap().is_some();
        assert_eq!(there, i % 2 == 1, "{id}");
    }
    // Deleting again, or after the router is gone, succeeds.
    peer.delete(&ctx("x", Some(REGION)), &ids[0], &p(0)).await.unwrap();
    for i in [1, 3, 5, 7] {
        peer.delete(&ctx("x", Some(REGION)), &ids[i], &p(i as u8)).await.unwrap();
    }
    router.delete(&rc, &r.id, &rp).await.unwrap();
    peer.delete(&ctx("x", Some(REGION)), &ids[1], &p(1)).await.unwrap();
    e.sandbox.shutdown().await;
}

/// HA VPN and Partner Interconnect pieces: gateway IPs as outputs, a tunnel's
/// secret never read back, the attachment's pairing key and state.
#[tokio::test]
async fn ha_vpn_and_partner_interconnect() {
    let e = env().await;
    let net = e.kind("gcp.compute.network").create(&ctx("net", None), &props(json!({"project": PROJECT, "name": "cc"}))).await.unwrap();
    let link = net.outputs["self_link"].clone();
    let rc = ctx("router", Some(REGION));
    let router = e
        .kind("gcp.compute.router")
        .create(&rc, &props(json!({"project": PROJECT, "name": "cc-vpn", "network": link, "asn": 65010})))
        .await
        .unwrap();
    let ha = e
        .kind("gcp.compute.ha_vpn_gateway")
        .create(&ctx("ha", Some(REGION)), &props(json!({"project": PROJECT, "name": "cc-ha", "network": link})))
        .await
        .unwrap();
    let (ip0, ip1) = (ha.outputs["interface0_ip"].as_str().unwrap(), ha.outputs["interface1_ip"].as_str().unwrap());
    assert!(ip0.parse::<std::net::Ipv4Addr>().is_ok() && ip0 != ip1, "{ha:?}");
    let ext = e.kind("gcp.compute.external_vpn_gateway");
    let ep = props(json!({"project": PROJECT, "name": "aws", "redundancy_type": "FOUR_IPS_REDUNDANCY",
        "interfaces": [{"id": 0, "ip_address": "3.208.0.1"}, {"id": 1, "ip_address": "3.208.0.2"}, {"id": 2, "ip_address": "3.208.0.3"}, {"id": 3, "ip_address": "3.208.0.4"}]}));
    assert!(ext.validate(None, &ep).is_empty());
    let mut short = ep.clone();
    short.insert("interfaces".into(), json!([{"id": 0, "ip_address": "3.208.0.1"}]));
    assert_eq!(ext.validate(None, &short)[0].field, "interfaces");
    let x = ext.create(&ctx("ext", None), &ep).await.unwrap();
    assert_eq!(x.properties["interfaces"], ep["interfaces"]);

    let tunnel = e.kind("gcp.compute.vpn_tunnel");
    assert!(tunnel.schema().field("shared_secret").unwrap().sensitive);
    let secret = "aws.generated_Key1";
    let tp = props(json!({"project": PROJECT, "name": "t0", "vpn_gateway": ha.outputs["self_link"], "vpn_gateway_interface": 0,
        "peer_external_gateway": x.outputs["self_link"], "peer_external_gateway_interface": 0, "router": router.outputs["self_link"], "shared_secret": secret}));
    let t = tunnel.create(&ctx("t0", Some(REGION)), &tp).await.unwrap();
    assert_eq!((t.outputs["status"].as_str(), t.outputs["peer_ip"].as_str()), (Some("ESTABLISHED"), Some("3.208.0.1")));
    assert!(!t.properties.contains_key("shared_secret"), "GCP never returns the secret: {t:?}");
    assert!(!format!("{t:?}").contains(secret));
    assert_eq!(t.properties["ike_version"], 2);
    // The gateway is in use by the tunnel.
    let busy = e.kind("gcp.compute.ha_vpn_gateway").delete(&ctx("ha", Some(REGION)), &ha.id, &Map::new()).await.unwrap_err();
    assert_eq!(busy.code.as_deref(), Some("resourceInUseByAnotherResource"), "{busy}");

    let ir = e
        .kind("gcp.compute.router")
        .create(&rc, &props(json!({"project": PROJECT, "name": "cc-partner", "network": link, "asn": 16550})))
        .await
        .unwrap();
    let att = e.kind("gcp.compute.interconnect_attachment");
    let ac = ctx("att", Some(REGION));
    let ap = props(
        json!({"project": PROJECT, "name": "cc-dx", "router": ir.outputs["self_link"], "edge_availability_domain": "AVAILABILITY_DOMAIN_1", "admin_enabled": true}),
    );
    let a = att.create(&ac, &ap).await.unwrap();
    assert_eq!((a.outputs["state"].as_str(), a.properties["type"].as_str()), (Some("PENDING_PARTNER"), Some("PARTNER")));
    assert!(a.outputs["pairing_key"].as_str().unwrap().ends_with("/us-east4/1"), "{a:?}");
    assert!(att.schema().output("pairing_key").unwrap().sensitive);
    let mut ap2 = ap.clone();
    ap2.insert("admin_enabled".into(), json!(false));
    assert_eq!(att.update(&ac, &a.id, &ap, &ap2, &changed(&["admin_enabled"])).await.unwrap().properties["admin_enabled"], false);
    // On a router that is not 16550, GCP refuses; the message says why.
    let wrong = att.create(&ctx("att2", Some(REGION)), &props(json!({"project": PROJECT, "name": "cc-dx2", "router": router.outputs["self_link"], "edge_availability_domain": "AVAILABILITY_DOMAIN_2"}))).await.unwrap_err();
    assert_eq!(wrong.class, ErrorClass::Invalid, "{wrong}");
    assert!(wrong.message.contains("16550"), "{wrong}");
    e.sandbox.shutdown().await;
}

/// Progress lines a kind reports, kept for the test to read.
#[derive(Default)]
struct Lines(std::sync::Mutex<Vec<String>>);

impl tandem_provider::Progress for Lines {
    fn message(&self, _: &str, message: String) {
        self.0.lock().unwrap().push(message);
    }
}

/// A GET right after an insert may still answer 404 (the sandbox's
/// consistency knob for `compute`), and a new Partner Interconnect attachment
/// sits in UNPROVISIONED, without its pairing key, for a while (latency kind
/// `interconnect_attachment_turnup`). Create waits both out (never a second
/// insert); delete waits for UNPROVISIONED to pass, as the google provider does.
#[tokio::test]
async fn reads_after_insert_and_unprovisioned_attachments_are_waited_out() {
    let e = env().await;
    e.admin.set_consistency(&[tandem_sim::latency::ConsistencyRule { service: "compute".into(), not_found_ms: 300 }]).await.unwrap();
    e.latency(&["interconnect_attachment_turnup"], 500).await;
    let lines = Arc::new(Lines::default());
    let mut c = ctx("att", Some(REGION));
    c.progress = lines.clone();

    let net = e
        .kind("gcp.compute.network")
        .create(&c, &props(json!({"project": PROJECT, "name": "cc"})))
        .await
        .expect("the network, once GET shows it");
    let router = e
        .kind("gcp.compute.router")
        .create(&c, &props(json!({"project": PROJECT, "name": "cc-partner", "network": net.outputs["self_link"], "asn": 16550})))
        .await
        .unwrap();
    let att = e.kind("gcp.compute.interconnect_attachment");
    let ap = props(json!({"project": PROJECT, "name": "cc-dx", "router": router.outputs["self_link"], "mtu": 1460}));
    let a = att.create(&c, &ap).await.unwrap();
    assert_eq!(a.outputs["state"], "PENDING_PARTNER", "{a:?}");
    assert!(
        a.outputs["pairing_key"].as_str().is_some_and(|k| k.contains("/us-east4/")),
        "the key is read once the attachment is provisioned: {a:?}"
    );
    assert_eq!(a.properties["mtu"], 1460);
    assert!(!a.properties.contains_key("edge_availability_domain"), "input only: GCP does not read it back");
    for coll in ["networks", "routers", "interconnectAttachments"] {
        assert_eq!(
            e.admin.count(Some("compute"), Some(&format!("{coll}.POST")), None).await.unwrap(),
            1,
            "one insert of {coll}, however long GET answered 404"
        );
    }
    let seen = lines.0.lock().unwrap().clone();
    assert!(seen.iter().any(|l| l.contains("not visible yet")), "{seen:?}");
    assert!(seen.iter().any(|l| l.contains("UNPROVISIONED")), "{seen:?}");

    // A second attachment deleted at once: delete waits for UNPROVISIONED to pass.
    lines.0.lock().unwrap().clear();
    let b = att.create(&c, &props(json!({"project": PROJECT, "name": "cc-dx-b", "router": router.outputs["self_link"], "edge_availability_domain": "AVAILABILITY_DOMAIN_2"}))).await.unwrap();
    assert!(b.outputs["pairing_key"].as_str().is_some_and(|k| k.ends_with("/us-east4/2")), "{b:?}");
    att.delete(&c, &a.id, &ap).await.unwrap();
    assert!(att.read(&c, &a.id).await.unwrap().is_none());
    e.sandbox.shutdown().await;
}

/// Deleting an attachment that is still UNPROVISIONED: the kind waits first.
#[tokio::test]
async fn delete_waits_for_an_attachment_to_leave_unprovisioned() {
    let e = env().await;
    let net = e.kind("gcp.compute.network").create(&ctx("net", None), &props(json!({"project": PROJECT, "name": "cc"}))).await.unwrap();
    let router = e
        .kind("gcp.compute.router")
        .create(
            &ctx("r", Some(REGION)),
            &props(json!({"project": PROJECT, "name": "cc-partner", "network": net.outputs["self_link"], "asn": 16550})),
        )
        .await
        .unwrap();
    // Made by someone else (the sandbox's own client here), still turning up.
    e.latency(&["interconnect_attachment_turnup"], 800).await;
    let path = tandem_gcp::Path { project: PROJECT.into(), region: Some(REGION.into()), name: "fresh".into() };
    e.gcp
        .insert(
            &ctx("x", Some(REGION)),
            tandem_gcp::Coll::InterconnectAttachments,
            &path,
            json!({"name": "fresh", "type": "PARTNER", "router": router.outputs["self_link"]}),
        )
        .await
        .unwrap();
    let now = e.gcp.get(&ctx("x", Some(REGION)), tandem_gcp::Coll::InterconnectAttachments, &path).await.unwrap().unwrap();
    assert_eq!(now["state"], "UNPROVISIONED", "{now}");
    assert!(now.get("pairingKey").is_none_or(Value::is_null), "no pairing key before turnup: {now}");
    let lines = Arc::new(Lines::default());
    let mut c = ctx("att", Some(REGION));
    c.progress = lines.clone();
    e.kind("gcp.compute.interconnect_attachment")
        .delete(&c, &path.render(tandem_gcp::Coll::InterconnectAttachments), &Map::new())
        .await
        .unwrap();
    let seen = lines.0.lock().unwrap().clone();
    assert!(seen.iter().any(|l| l.contains("before delete: UNPROVISIONED")), "{seen:?}");
    assert_eq!(
        e.admin.count(Some("compute"), Some("interconnectAttachments.DELETE"), None).await.unwrap(),
        1,
        "deleted once it could be, with no refused attempt"
    );
    e.sandbox.shutdown().await;
}

#[test]
fn validation_explains_what_would_be_valid() {
    let gcp = Arc::new(GcpContext::default());
    let kind = |t: &str| tandem_gcp::kinds(gcp.clone()).into_iter().find(|k| k.schema().type_name == t).unwrap();
    let router = kind("gcp.compute.router");
    let bad = router.validate(Some(REGION), &props(json!({"name": "cc_router", "asn": 65535})));
    let fields: Vec<&str> = bad.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["name", "asn"], "{bad:?}");
    assert!(bad[0].message.contains("\"cc-router\""), "suggests a valid name: {bad:?}");
    assert!(bad[1].message.contains("64512-65534"), "{bad:?}");
    assert!(router.validate(Some(REGION), &props(json!({"asn": 16550}))).is_empty(), "Partner Interconnect's ASN is allowed");
    let custom = router.validate(Some(REGION), &props(json!({"asn": 65010, "advertised_groups": ["ALL_SUBNETS"]})));
    assert_eq!(custom[0].field, "advertised_groups");
    let sub = kind("gcp.compute.subnetwork").validate(Some(REGION), &props(json!({"ip_cidr_range": "10.0.0.0/30"})));
    assert_eq!(sub[0].field, "ip_cidr_range");
    let fw = kind("gcp.compute.firewall").validate(None, &props(json!({"source_ranges": ["10.0.0.0/33"]})));
    assert_eq!(fw[0].field, "source_ranges");
    let att = kind("gcp.compute.interconnect_attachment").validate(Some(REGION), &props(json!({"mtu": 9000})));
    assert_eq!(att[0].field, "mtu");
    assert!(att[0].message.contains("1440 (the default), 1460, 1500 or 8896"), "{att:?}");
    for ok in [1440, 1460, 1500, 8896] {
        assert!(kind("gcp.compute.interconnect_attachment").validate(Some(REGION), &props(json!({"mtu": ok}))).is_empty(), "{ok}");
    }
    // A BGP peer address needs the router's own address on the interface.
    let peer = kind("gcp.compute.router_peer").validate(Some(REGION), &props(json!({"peer_ip_address": "169.254.10.1"})));
    assert_eq!(peer[0].field, "peer_ip_address", "{peer:?}");
    assert!(
        kind("gcp.compute.router_peer")
            .validate(Some(REGION), &props(json!({"peer_ip_address": "169.254.10.1", "ip_range": null})))
            .is_empty(),
        "a range not known before apply is no error"
    );
    // References take self links: a name would read back as a URL and show as a change forever.
    let link = kind("gcp.compute.subnetwork").validate(Some(REGION), &props(json!({"network": "contact-center"})));
    assert_eq!(link[0].field, "network");
    assert!(link[0].message.contains("${gcp_network.self_link}"), "{link:?}");
    // Every kind documents its API page and how to import it.
    for k in tandem_gcp::kinds(gcp.clone()) {
        let s = k.schema();
        assert!(s.api_reference.starts_with("https://cloud.google.com/compute/docs/reference/rest/v1/"), "{}", s.type_name);
        assert!(s.import_id.starts_with("projects/PROJECT/"), "{}", s.type_name);
        assert_eq!(s.name_field, Some("name"), "{}", s.type_name);
    }
}

/// Google's throttling (429 rateLimitExceeded) and server errors (503
/// backendError) are retried with backoff; an outage that does not end is
/// reported with what failed.
#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    use tandem_sim::faults::{FaultKind, FaultRule};
    let e = env().await;
    e.admin.add_fault(&FaultRule::new(FaultKind::Throttle).service("compute").operation("networks.POST").count(2)).await.unwrap();
    e.admin.add_fault(&FaultRule::new(FaultKind::ServerError).service("compute").operation("networks.GET").count(2)).await.unwrap();
    let network = e.kind("gcp.compute.network");
    let nc = ctx("net", None);
    let net = network.create(&nc, &props(json!({"project": PROJECT, "name": "cc"}))).await.expect("retried through the faults");
    assert_eq!(net.properties["name"], "cc");
    assert_eq!(
        e.admin.count(Some("compute"), Some("networks.POST"), None).await.unwrap(),
        3,
        "two throttled inserts, then one that worked"
    );
    // A region that stays down: the error says what failed and is retryable.
    e.admin.set_outage(REGION, "compute", tandem_sim::faults::OutageMode::Error).await.unwrap();
    let sub = e.kind("gcp.compute.subnetwork");
    let err = sub
        .create(
            &ctx("subnet", Some(REGION)),
            &props(json!({"project": PROJECT, "name": "s", "network": net.outputs["self_link"], "ip_cidr_range": "10.20.0.0/20"})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Transient, "{err}");
    assert!(err.message.contains("projects/tandem-test/regions/us-east4/subnetworks/s"), "{err}");
    e.sandbox.shutdown().await;
}
