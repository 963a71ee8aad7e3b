//! EC2 through the sandbox: VPN tunnel options, the not-found window after a
//! create, and route propagation, on top of upstream's XML.

use bytes::Bytes;
use http::{HeaderMap, Method, Response};
use http_body_util::Full;

use super::dispatch::env_for;
use super::forward::forward;
use super::identify::Call;
use super::wire::{body_text, render_error, request_id, respond, with_body};
use super::Shared;
use crate::error::ApiError;

const VPN_ACTIONS: &[&str] =
    &["CreateVpnConnection", "DescribeVpnConnections", "DeleteVpnConnection", "CreateCustomerGateway", "DescribeCustomerGateways"];

/// EC2: VPN tunnel options (`ec2::VpnTunnels`) on top of upstream's XML, and
/// the not-found window after a create (`ec2_consistency`).
pub(super) async fn ec2(
    shared: &Shared,
    call: &Call,
    method: Method,
    uri: http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    if crate::ec2_routes::ACTIONS.contains(&call.operation.as_str()) {
        return ec2_routes(shared, call, method, uri, headers, body).await;
    }
    let op = call.operation.as_str();
    let vpn = VPN_ACTIONS.contains(&op);
    let consistency = crate::ec2_consistency::kind_of(op);
    if !vpn && consistency.is_none() {
        return forward(shared, call, method, uri, headers, body).await;
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .chain(form_urlencoded::parse(&body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        if let Err(e) = st.ec2_visibility.check(&env, op, &params) {
            return render_error(&call.wire, &e);
        }
        if op == "CreateVpnConnection" {
            if let Err(e) = st.vpn.validate_create(&params) {
                return render_error(&call.wire, &e);
            }
        }
    }
    let resp = forward(shared, call, method, uri, headers, body).await;
    if !resp.status().is_success() {
        return resp;
    }
    let (resp, bytes) = body_text(resp).await;
    let xml = String::from_utf8_lossy(&bytes).into_owned();
    let mut st = shared.lock();
    let clock = st.clock();
    let env = env_for(call, &clock);
    let mut out = if vpn { st.vpn.augment_xml(&env, op, &params, &xml) } else { xml };
    st.ec2_visibility.created(&env, op, &out);
    out = st.ec2_visibility.filter(&env, op, &out);
    with_body(resp, out)
}

/// EC2 route propagation (`ec2_routes`): the table and the gateway are looked
/// up in the upstream, the propagation itself is kept here.
async fn ec2_routes(
    shared: &Shared,
    call: &Call,
    method: Method,
    uri: http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    use crate::ec2_routes::{attached_to, first_text};
    if call.operation == "DescribeRouteTables" {
        let resp = forward(shared, call, method, uri, headers, body).await;
        if !resp.status().is_success() {
            return resp;
        }
        let (resp, bytes) = body_text(resp).await;
        let out = shared.lock().routes.augment_describe(&call.region, &String::from_utf8_lossy(&bytes));
        return with_body(resp, out);
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .chain(form_urlencoded::parse(&body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (Some(table), Some(gateway)) = (get("RouteTableId"), get("GatewayId")) else {
        return render_error(
            &call.wire,
            &ApiError::new(400, "MissingParameter", "The request must contain the parameters RouteTableId and GatewayId"),
        );
    };
    // The same signed headers, another body: the upstream does not check signatures.
    let mut ask_headers = headers.clone();
    ask_headers.remove(http::header::CONTENT_LENGTH);
    let ask = |action: &str, key: &str, id: &str| {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("Action", action)
            .append_pair("Version", "2016-11-15")
            .append_pair(key, id)
            .finish();
        forward(shared, call, Method::POST, http::Uri::from_static("/"), &ask_headers, Bytes::from(body))
    };
    let rt = ask("DescribeRouteTables", "RouteTableId.1", &table).await;
    if !rt.status().is_success() {
        return rt;
    }
    let (_, rt_body) = body_text(rt).await;
    let rt_xml = String::from_utf8_lossy(&rt_body).into_owned();
    let gw = ask("DescribeVpnGateways", "VpnGatewayId.1", &gateway).await;
    if !gw.status().is_success() {
        return gw;
    }
    let (_, gw_body) = body_text(gw).await;
    let gw_xml = String::from_utf8_lossy(&gw_body).into_owned();
    let enable = call.operation == "EnableVgwRoutePropagation";
    if enable {
        // "The virtual private gateway must be attached to the same VPC that
        // the routing tables are associated with."
        // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableVgwRoutePropagation.html
        let vpc = first_text(&rt_xml, "vpcId").unwrap_or_default();
        if !attached_to(&gw_xml, vpc) {
            return render_error(
                &call.wire,
                &ApiError::new(
                    400,
                    "Gateway.NotAttached",
                    format!("resource {gateway} is not attached to the VPC {vpc} of route table {table}"),
                ),
            );
        }
        shared.lock().routes.enable(&call.region, &table, &gateway);
    } else {
        shared.lock().routes.disable(&call.region, &table, &gateway);
    }
    let op = &call.operation;
    respond(
        200,
        &[("content-type", "text/xml;charset=UTF-8".to_string())],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>{}</requestId><return>true</return></{op}Response>", request_id()),
    )
}
