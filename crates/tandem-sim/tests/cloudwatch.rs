//! Amazon CloudWatch in the sandbox over Smithy RPC v2 CBOR, driven by the
//! official aws-sdk-cloudwatch (no moto): alarms, metric data, dashboards,
//! their rules and errors, faults and accounting; and boto3
//! (tests/python/test_sim_cloudwatch.py) against the same sandbox.
mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::operation::put_dashboard::PutDashboardError;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy, StandardUnit, StateValue, Statistic,
    StatisticSet,
};
use common::sandbox;
use tandem_sim::faults::{FaultKind, FaultRule, OutageMode};
use tandem_sim::Sandbox;

fn cw(sb: &Sandbox, region: &str) -> aws_sdk_cloudwatch::Client {
    cw_with(sb, region, 3)
}

fn cw_with(sb: &Sandbox, region: &str, attempts: u32) -> aws_sdk_cloudwatch::Client {
    let conf = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::standard().with_max_attempts(attempts))
        .build();
    aws_sdk_cloudwatch::Client::from_conf(conf)
}

/// (error code, HTTP status) of an SDK error.
fn failure<E: ProvideErrorMetadata + std::fmt::Debug>(
    e: &aws_sdk_cloudwatch::error::SdkError<E, aws_sdk_cloudwatch::config::http::HttpResponse>,
) -> (String, u16) {
    let code = e.as_service_error().and_then(|s| s.code()).map(str::to_string).unwrap_or_else(|| format!("{e:?}"));
    (code, e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0))
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// A valid static-threshold alarm on `Tandem/Health` `Healthy`.
fn alarm(
    c: &aws_sdk_cloudwatch::Client,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    c.put_metric_alarm()
        .alarm_name(name)
        .alarm_description("region health")
        .namespace("Tandem/Health")
        .metric_name("Healthy")
        .dimensions(dim("Region", "us-east-1"))
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .treat_missing_data("breaching")
        .alarm_actions("arn:aws:sns:us-east-1:123456789012:failover")
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn alarms_put_describe_set_state_delete() {
    let (sb, _admin) = sandbox().await;
    let c = cw(&sb, "us-east-1");
    alarm(&c, "tandem-us-east-1-health").send().await.expect("put alarm");
    alarm(&c, "tandem-us-east-1-latency").send().await.expect("put alarm");
    alarm(&c, "other").send().await.expect("put alarm");

    let all = c.describe_alarms().send().await.expect("describe");
    assert_eq!(all.metric_alarms().len(), 3);
    assert!(all.composite_alarms().is_empty());
    let a = c.describe_alarms().alarm_names("tandem-us-east-1-health").send().await.unwrap();
    let a = &a.metric_alarms()[0];
    assert_eq!(a.alarm_name(), Some("tandem-us-east-1-health"));
    assert_eq!(a.alarm_arn(), Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:tandem-us-east-1-health"));
    assert_eq!(a.state_value(), Some(&StateValue::InsufficientData), "a new alarm starts INSUFFICIENT_DATA");
    assert_eq!(a.statistic(), Some(&Statistic::Minimum));
    assert_eq!((a.period(), a.evaluation_periods(), a.datapoints_to_alarm(), a.threshold()), (Some(60), Some(3), Some(2), Some(1.0)));
    assert_eq!(a.comparison_operator(), Some(&ComparisonOperator::LessThanThreshold));
    assert_eq!(a.dimensions(), &[dim("Region", "us-east-1")]);
    assert_eq!(a.alarm_actions(), &["arn:aws:sns:us-east-1:123456789012:failover".to_string()]);
    assert_eq!(a.treat_missing_data(), Some("breaching"));
    assert_eq!(a.actions_enabled(), Some(true));
    let updated = a.state_updated_timestamp().expect("timestamp").secs();
    assert!((updated - now_secs()).abs() < 60, "timestamps are epoch seconds: {updated}");

    let by_prefix = c.describe_alarms().alarm_name_prefix("tandem-").send().await.unwrap();
    let names: Vec<_> = by_prefix.metric_alarms().iter().filter_map(|a| a.alarm_name()).collect();
    assert_eq!(names, ["tandem-us-east-1-health", "tandem-us-east-1-latency"]);

    // A drill makes the region unhealthy.
    c.set_alarm_state()
        .alarm_name("tandem-us-east-1-health")
        .state_value(StateValue::Alarm)
        .state_reason("drill")
        .state_reason_data(r#"{"drill":true}"#)
        .send()
        .await
        .expect("set state");
    let in_alarm = c.describe_alarms().state_value(StateValue::Alarm).send().await.unwrap();
    assert_eq!(in_alarm.metric_alarms().len(), 1);
    let a = &in_alarm.metric_alarms()[0];
    assert_eq!(
        (a.alarm_name(), a.state_reason(), a.state_reason_data()),
        (Some("tandem-us-east-1-health"), Some("drill"), Some(r#"{"drill":true}"#))
    );
    assert_eq!(c.describe_alarms().state_value(StateValue::InsufficientData).send().await.unwrap().metric_alarms().len(), 2);

    // Re-putting an alarm updates its configuration and keeps its state.
    alarm(&c, "tandem-us-east-1-health").threshold(0.5).send().await.unwrap();
    let a = c.describe_alarms().alarm_names("tandem-us-east-1-health").send().await.unwrap();
    assert_eq!((a.metric_alarms()[0].threshold(), a.metric_alarms()[0].state_value()), (Some(0.5), Some(&StateValue::Alarm)));

    // Pagination.
    let page = c.describe_alarms().max_records(2).send().await.unwrap();
    assert_eq!(page.metric_alarms().len(), 2);
    let rest = c.describe_alarms().max_records(2).next_token(page.next_token().unwrap()).send().await.unwrap();
    assert_eq!((rest.metric_alarms().len(), rest.next_token()), (1, None));
    let e = c.describe_alarms().next_token("garbage").send().await.unwrap_err();
    assert_eq!(failure(&e), ("InvalidNextToken".to_string(), 400));

    // Alarms are regional.
    let west = cw(&sb, "us-west-2");
    assert!(west.describe_alarms().send().await.unwrap().metric_alarms().is_empty());
    let e = west
        .set_alarm_state()
        .alarm_name("tandem-us-east-1-health")
        .state_value(StateValue::Ok)
        .state_reason("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&e), ("ResourceNotFound".to_string(), 404));
    assert!(e.as_service_error().unwrap().is_resource_not_found());

    // DeleteAlarms: all or nothing.
    let e = c.delete_alarms().alarm_names("other").alarm_names("missing").send().await.unwrap_err();
    assert_eq!(failure(&e), ("ResourceNotFound".to_string(), 404));
    assert_eq!(c.describe_alarms().send().await.unwrap().metric_alarms().len(), 3);
    c.delete_alarms().alarm_names("other").alarm_names("tandem-us-east-1-latency").send().await.expect("delete");
    let left = c.describe_alarms().send().await.unwrap();
    assert_eq!(left.metric_alarms().iter().filter_map(|a| a.alarm_name()).collect::<Vec<_>>(), ["tandem-us-east-1-health"]);
}

#[tokio::test]
async fn put_metric_alarm_rules() {
    let (sb, _admin) = sandbox().await;
    let c = cw(&sb, "us-east-1");
    let cases: Vec<(&str, aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder, &str)> = vec![
        ("empty name", alarm(&c, ""), "ValidationError"),
        ("long name", alarm(&c, &"a".repeat(256)), "ValidationError"),
        ("unknown comparison operator", alarm(&c, "x").comparison_operator(ComparisonOperator::from("Bigger")), "ValidationError"),
        ("statistic and extended statistic", alarm(&c, "x").extended_statistic("p99"), "InvalidParameterCombination"),
        ("neither statistic", alarm(&c, "x").set_statistic(None), "InvalidParameterCombination"),
        ("unknown statistic", alarm(&c, "x").statistic(Statistic::from("Median")), "ValidationError"),
        ("bad extended statistic", alarm(&c, "x").set_statistic(None).extended_statistic("p101"), "InvalidParameterValue"),
        ("period 45", alarm(&c, "x").period(45), "InvalidParameterValue"),
        ("period 0", alarm(&c, "x").period(0), "ValidationError"),
        ("no period", alarm(&c, "x").set_period(None), "ValidationError"),
        ("evaluation periods 0", alarm(&c, "x").evaluation_periods(0).set_datapoints_to_alarm(None), "ValidationError"),
        ("no evaluation periods", alarm(&c, "x").set_evaluation_periods(None).set_datapoints_to_alarm(None), "ValidationError"),
        ("datapoints > evaluation periods", alarm(&c, "x").datapoints_to_alarm(4), "ValidationError"),
        ("longer than a day", alarm(&c, "x").period(60).evaluation_periods(1441).set_datapoints_to_alarm(None), "ValidationError"),
        ("no comparison operator", alarm(&c, "x").set_comparison_operator(None), "ValidationError"),
        ("no threshold", alarm(&c, "x").set_threshold(None), "ValidationError"),
        ("no metric", alarm(&c, "x").set_metric_name(None), "InvalidParameterCombination"),
        ("bad treat missing data", alarm(&c, "x").treat_missing_data("sometimes"), "ValidationError"),
        (
            "six actions",
            (0..5).fold(alarm(&c, "x"), |b, i| b.alarm_actions(format!("arn:aws:sns:us-east-1:123456789012:t{i}"))),
            "ValidationError",
        ),
    ];
    for (what, req, want) in cases {
        let e = req.send().await.expect_err(what);
        assert_eq!(failure(&e), (want.to_string(), 400), "{what}");
    }
    assert!(c.describe_alarms().send().await.unwrap().metric_alarms().is_empty(), "no invalid alarm was stored");

    // Valid variants: an extended statistic; a week-long evaluation with hourly periods; metric math queries.
    alarm(&c, "p99").set_statistic(None).extended_statistic("p99").send().await.expect("extended statistic");
    alarm(&c, "week").period(3600).evaluation_periods(168).set_datapoints_to_alarm(None).send().await.expect("7 days of hours");
    let q = MetricDataQuery::builder()
        .id("m1")
        .metric_stat(
            MetricStat::builder()
                .metric(Metric::builder().namespace("Tandem/Health").metric_name("Healthy").dimensions(dim("Region", "us-west-2")).build())
                .period(60)
                .stat("Minimum")
                .build(),
        )
        .return_data(true)
        .build();
    c.put_metric_alarm()
        .alarm_name("math")
        .metrics(q.clone())
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .expect("metrics alarm");
    let e = alarm(&c, "mixed").metrics(q).send().await.unwrap_err();
    assert_eq!(failure(&e).0, "InvalidParameterCombination");
    let out = c.describe_alarms().alarm_names("math").send().await.unwrap();
    let m = &out.metric_alarms()[0];
    assert_eq!(m.metrics()[0].id(), Some("m1"));
    assert_eq!(m.metrics()[0].metric_stat().unwrap().period(), Some(60));
    assert_eq!(c.describe_alarms().send().await.unwrap().metric_alarms().len(), 3);
}

#[tokio::test]
async fn set_alarm_state_rules() {
    let (sb, _admin) = sandbox().await;
    let c = cw(&sb, "us-east-1");
    let e = c.set_alarm_state().alarm_name("nope").state_value(StateValue::Alarm).state_reason("drill").send().await.unwrap_err();
    assert_eq!(failure(&e), ("ResourceNotFound".to_string(), 404));
    alarm(&c, "a").send().await.unwrap();
    let e = c
        .set_alarm_state()
        .alarm_name("a")
        .state_value(StateValue::Alarm)
        .state_reason("drill")
        .state_reason_data("not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&e), ("InvalidFormat".to_string(), 400));
    assert!(e.as_service_error().unwrap().is_invalid_format_fault());
    let e = c.set_alarm_state().alarm_name("a").state_value(StateValue::from("BROKEN")).state_reason("x").send().await.unwrap_err();
    assert_eq!(failure(&e), ("ValidationError".to_string(), 400));
    let e = c.set_alarm_state().alarm_name("a").state_value(StateValue::Ok).send().await.unwrap_err();
    assert_eq!(failure(&e), ("ValidationError".to_string(), 400), "StateReason is required");
    c.set_alarm_state().alarm_name("a").state_value(StateValue::Ok).state_reason("recovered").send().await.unwrap();
    let a = c.describe_alarms().send().await.unwrap();
    assert_eq!(a.metric_alarms()[0].state_value(), Some(&StateValue::Ok));
}

#[tokio::test]
async fn metric_data_put_and_get() {
    let (sb, _admin) = sandbox().await;
    let c = cw(&sb, "us-east-1");
    // Two whole minutes at the start of a five-minute period, 15-20 minutes ago.
    let t0 = (now_secs() / 300) * 300 - 900;
    let at = |s: i64| DateTime::from_secs(t0 + s);
    let datum = |v: f64, s: i64| {
        MetricDatum::builder()
            .metric_name("Calls")
            .dimensions(dim("Region", "us-east-1"))
            .value(v)
            .timestamp(at(s))
            .unit(StandardUnit::Count)
            .build()
    };
    c.put_metric_data()
        .namespace("Tandem/Connect")
        .metric_data(datum(1.0, 0))
        .metric_data(datum(3.0, 20))
        .metric_data(
            MetricDatum::builder()
                .metric_name("Calls")
                .dimensions(dim("Region", "us-east-1"))
                .values(5.0)
                .values(7.0)
                .counts(1.0)
                .counts(2.0)
                .timestamp(at(40))
                .unit(StandardUnit::Count)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Calls")
                .dimensions(dim("Region", "us-east-1"))
                .statistic_values(StatisticSet::builder().sample_count(2.0).sum(20.0).minimum(8.0).maximum(12.0).build())
                .timestamp(at(70))
                .unit(StandardUnit::Count)
                .build(),
        )
        // Other dimensions, another metric: not part of the query.
        .metric_data(
            MetricDatum::builder().metric_name("Calls").dimensions(dim("Region", "us-west-2")).value(100.0).timestamp(at(10)).build(),
        )
        .metric_data(MetricDatum::builder().metric_name("Calls").value(100.0).timestamp(at(10)).build())
        .send()
        .await
        .expect("put metric data");

    let query_with = |id: &str, stat: &str, period: i32, return_data: bool| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder().namespace("Tandem/Connect").metric_name("Calls").dimensions(dim("Region", "us-east-1")).build(),
                    )
                    .period(period)
                    .stat(stat)
                    .build(),
            )
            .return_data(return_data)
            .build()
    };
    let query = |id: &str, stat: &str| query_with(id, stat, 60, true);
    let out = c
        .get_metric_data()
        .metric_data_queries(query("sum", "Sum"))
        .metric_data_queries(query("avg", "Average"))
        .metric_data_queries(query("max", "Maximum"))
        .metric_data_queries(query("min", "Minimum"))
        .metric_data_queries(query("n", "SampleCount"))
        .metric_data_queries(query_with("hidden", "Sum", 60, false))
        .start_time(at(-60))
        .end_time(at(300))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .expect("get metric data");
    let results = out.metric_data_results();
    assert_eq!(results.len(), 5, "ReturnData false is not returned");
    let by_id = |id: &str| results.iter().find(|r| r.id() == Some(id)).unwrap_or_else(|| panic!("{id}"));
    // Minute 0: 1, 3, 5, 7, 7 (counts 1, 2); minute 1: statistic set (2 samples, sum 20, 8..12).
    assert_eq!(by_id("sum").values(), &[23.0, 20.0]);
    assert_eq!(by_id("avg").values(), &[23.0 / 5.0, 10.0]);
    assert_eq!(by_id("max").values(), &[7.0, 12.0]);
    assert_eq!(by_id("min").values(), &[1.0, 8.0]);
    assert_eq!(by_id("n").values(), &[5.0, 2.0]);
    assert_eq!(by_id("sum").timestamps(), &[at(0), at(60)]);
    assert_eq!(by_id("sum").label(), Some("Calls"));
    assert_eq!(by_id("sum").status_code().map(|s| s.as_str()), Some("Complete"));

    // Default order is TimestampDescending; a wider period aggregates both minutes; the window filters.
    let out = c.get_metric_data().metric_data_queries(query("sum", "Sum")).start_time(at(-60)).end_time(at(300)).send().await.unwrap();
    assert_eq!(out.metric_data_results()[0].timestamps(), &[at(60), at(0)]);
    let five = query_with("five", "Sum", 300, true);
    let out = c.get_metric_data().metric_data_queries(five).start_time(at(-60)).end_time(at(300)).send().await.unwrap();
    assert_eq!(out.metric_data_results()[0].values(), &[43.0]);
    let out = c.get_metric_data().metric_data_queries(query("sum", "Sum")).start_time(at(60)).end_time(at(120)).send().await.unwrap();
    assert_eq!(out.metric_data_results()[0].values(), &[20.0]);

    // Metric data is regional.
    let west = cw(&sb, "us-west-2");
    let out = west.get_metric_data().metric_data_queries(query("sum", "Sum")).start_time(at(-60)).end_time(at(300)).send().await.unwrap();
    assert!(out.metric_data_results()[0].values().is_empty());

    // GetMetricData rules.
    let e = c.get_metric_data().metric_data_queries(query("Bad", "Sum")).start_time(at(0)).end_time(at(60)).send().await.unwrap_err();
    assert_eq!(failure(&e), ("ValidationError".to_string(), 400), "ids start with a lowercase letter");
    let e = c
        .get_metric_data()
        .metric_data_queries(query("a", "Sum"))
        .metric_data_queries(query("a", "Sum"))
        .start_time(at(0))
        .end_time(at(60))
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&e).0, "ValidationError", "ids are unique");
    let e = c.get_metric_data().metric_data_queries(query("a", "Sum")).start_time(at(60)).end_time(at(0)).send().await.unwrap_err();
    assert_eq!(failure(&e).0, "ValidationError", "StartTime before EndTime");
    let e = c.get_metric_data().metric_data_queries(query("a", "Median")).start_time(at(0)).end_time(at(60)).send().await.unwrap_err();
    assert_eq!(failure(&e).0, "InvalidParameterValue");
}

#[tokio::test]
async fn put_metric_data_rules() {
    let (sb, _admin) = sandbox().await;
    let c = cw(&sb, "us-east-1");
    let ok = || MetricDatum::builder().metric_name("m").value(1.0);
    let e = c.put_metric_data().namespace("AWS/EC2").metric_data(ok().build()).send().await.unwrap_err();
    assert_eq!(failure(&e), ("InvalidParameterValue".to_string(), 400), "AWS/ is reserved");
    assert!(e.as_service_error().unwrap().is_invalid_parameter_value_exception());
    let e = c
        .put_metric_data()
        .namespace("N")
        .metric_data(ok().statistic_values(StatisticSet::builder().sample_count(1.0).sum(1.0).minimum(1.0).maximum(1.0).build()).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&e).0, "InvalidParameterCombination", "Value and StatisticValues");
    assert!(e.as_service_error().unwrap().is_invalid_parameter_combination_exception());
    let e = c
        .put_metric_data()
        .namespace("N")
        .metric_data(MetricDatum::builder().metric_name("m").values(1.0).values(2.0).counts(1.0).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&e).0, "InvalidParameterValue", "Values and Counts of the same size");
    let e = c.put_metric_data().namespace("N").metric_data(MetricDatum::builder().metric_name("m").build()).send().await.unwrap_err();
    assert_eq!(failure(&e).0, "MissingParameter");
    let e = c.put_metric_data().namespace("N").metric_data(ok().value(f64::NAN).build()).send().await.unwrap_err();
    assert_eq!(failure(&e).0, "InvalidParameterValue", "NaN");
    let e = c
        .put_metric_data()
        .namespace("N")
        .metric_data(ok().timestamp(DateTime::from_secs(now_secs() - 15 * 86_400)).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&e).0, "InvalidParameterValue", "older than two weeks");
    let e = c
        .put_metric_data()
        .namespace("N")
        .metric_data(ok().dimensions(dim("A", "1")).dimensions(dim("A", "2")).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(failure(&e).0, "InvalidParameterValue", "a dimension twice");
    c.put_metric_data().namespace("N").metric_data(ok().build()).send().await.expect("valid");
}

#[tokio::test]
async fn dashboards() {
    let (sb, _admin) = sandbox().await;
    let c = cw(&sb, "us-east-1");
    let body = r##"{"widgets":[{"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"metrics":[["Tandem/Health","Healthy","Region","us-east-1"]],"region":"us-east-1","title":"health"}},{"type":"text","properties":{"markdown":"# tandem"}}]}"##;
    let out = c.put_dashboard().dashboard_name("tandem-overview").dashboard_body(body).send().await.expect("put dashboard");
    assert!(out.dashboard_validation_messages().is_empty());
    c.put_dashboard().dashboard_name("tandem-failover").dashboard_body(r#"{"widgets":[]}"#).send().await.unwrap();
    c.put_dashboard().dashboard_name("other").dashboard_body(r#"{"widgets":[]}"#).send().await.unwrap();

    let got = c.get_dashboard().dashboard_name("tandem-overview").send().await.expect("get");
    assert_eq!(got.dashboard_body(), Some(body));
    assert_eq!(got.dashboard_arn(), Some("arn:aws:cloudwatch::123456789012:dashboard/tandem-overview"));
    assert_eq!(got.dashboard_name(), Some("tandem-overview"));

    // Not JSON, no widgets, widgets not an array, a widget without type: InvalidParameterInput with messages.
    for bad in ["not json", r#"{"title":"x"}"#, r#"{"widgets":{}}"#, r#"{"widgets":[{"properties":{}}]}"#, "[]"] {
        let e = c.put_dashboard().dashboard_name("bad").dashboard_body(bad).send().await.unwrap_err();
        assert_eq!(failure(&e), ("InvalidParameterInput".to_string(), 400), "{bad}");
        match e.as_service_error() {
            Some(PutDashboardError::DashboardInvalidInputError(d)) => assert!(!d.dashboard_validation_messages().is_empty(), "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    let e = c.put_dashboard().dashboard_name("bad name!").dashboard_body("{\"widgets\":[]}").send().await.unwrap_err();
    assert_eq!(failure(&e).0, "InvalidParameterInput");

    let list = c.list_dashboards().send().await.unwrap();
    let names: Vec<_> = list.dashboard_entries().iter().filter_map(|d| d.dashboard_name()).collect();
    assert_eq!(names, ["other", "tandem-failover", "tandem-overview"]);
    let overview = &list.dashboard_entries()[2];
    assert_eq!(overview.size(), Some(body.len() as i64));
    assert!((overview.last_modified().unwrap().secs() - now_secs()).abs() < 60);
    let list = c.list_dashboards().dashboard_name_prefix("tandem-").send().await.unwrap();
    assert_eq!(list.dashboard_entries().len(), 2);
    // Dashboards are global (per account): visible from any region.
    assert_eq!(cw(&sb, "us-west-2").list_dashboards().send().await.unwrap().dashboard_entries().len(), 3);

    let e = c.get_dashboard().dashboard_name("missing").send().await.unwrap_err();
    assert_eq!(failure(&e), ("ResourceNotFound".to_string(), 404));
    assert!(e.as_service_error().unwrap().is_dashboard_not_found_error());
    let e = c.delete_dashboards().dashboard_names("other").dashboard_names("missing").send().await.unwrap_err();
    assert_eq!(failure(&e), ("ResourceNotFound".to_string(), 404));
    c.delete_dashboards().dashboard_names("other").dashboard_names("tandem-failover").send().await.expect("delete");
    let names: Vec<_> = c
        .list_dashboards()
        .send()
        .await
        .unwrap()
        .dashboard_entries()
        .iter()
        .filter_map(|d| d.dashboard_name().map(str::to_string))
        .collect();
    assert_eq!(names, ["tandem-overview"]);
}

#[tokio::test]
async fn faults_outages_and_accounting() {
    let (sb, admin) = sandbox().await;
    let c = cw(&sb, "us-east-1");
    admin.add_fault(&FaultRule::new(FaultKind::Throttle).service("monitoring").operation("DescribeAlarms").count(2)).await.unwrap();
    c.describe_alarms().send().await.expect("succeeds after the SDK retries two throttles");
    assert_eq!(admin.count(Some("monitoring"), Some("DescribeAlarms"), Some("us-east-1")).await.unwrap(), 3);
    admin.add_fault(&FaultRule::new(FaultKind::Throttle).service("monitoring").operation("ListDashboards").count(1)).await.unwrap();
    let e = cw_with(&sb, "us-east-1", 1).list_dashboards().send().await.unwrap_err();
    assert_eq!(failure(&e), ("Throttling".to_string(), 400));
    admin.set_outage("us-west-2", "monitoring", OutageMode::Error).await.unwrap();
    let e = cw_with(&sb, "us-west-2", 1).describe_alarms().send().await.unwrap_err();
    assert_eq!(failure(&e).1, 500);
    cw(&sb, "us-east-1").describe_alarms().send().await.expect("the other region serves");
    admin.clear_outage("us-west-2").await.unwrap();
    cw(&sb, "us-west-2").describe_alarms().send().await.expect("after the outage");
    // Reset forgets CloudWatch state too.
    alarm(&c, "a").send().await.unwrap();
    admin.reset().await.unwrap();
    assert!(c.describe_alarms().send().await.unwrap().metric_alarms().is_empty());
}

#[tokio::test]
async fn boto3_drives_cloudwatch() {
    let (sb, _admin) = sandbox().await;
    common::python_check("test_sim_cloudwatch", &sb.url()).await;
}
