//! Metric alarms: PutMetricAlarm, DescribeAlarms, DeleteAlarms, SetAlarmState.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html

use super::*;

pub(super) fn render_alarm(a: &Alarm) -> Cbor {
    let c = &a.config;
    let mut m: Vec<(&str, Cbor)> = vec![
        ("AlarmName", text(&a.name)),
        ("AlarmArn", text(&a.arn)),
        ("AlarmConfigurationUpdatedTimestamp", ts(a.config_updated)),
        ("ActionsEnabled", Cbor::Bool(c.get("ActionsEnabled").and_then(Value::as_bool).unwrap_or(true))),
    ];
    if let Some(d) = c.get("AlarmDescription").and_then(Value::as_str) {
        m.push(("AlarmDescription", text(d)));
    }
    for k in ["OKActions", "AlarmActions", "InsufficientDataActions"] {
        m.push((k, json_to_cbor(c.get(k).unwrap_or(&Value::Array(vec![])))));
    }
    m.push(("StateValue", text(&a.state)));
    m.push(("StateReason", text(&a.reason)));
    if let Some(d) = &a.reason_data {
        m.push(("StateReasonData", text(d)));
    }
    m.push(("StateUpdatedTimestamp", ts(a.state_updated)));
    m.push(("StateTransitionedTimestamp", ts(a.state_transitioned)));
    for k in [
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Unit",
        "ComparisonOperator",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
        "ThresholdMetricId",
    ] {
        if let Some(v) = c.get(k).and_then(Value::as_str) {
            m.push((k, text(v)));
        }
    }
    if c.get("Metrics").is_none() {
        m.push(("Dimensions", dims_cbor(&a.dimensions)));
    }
    for k in ["Period", "EvaluationPeriods", "DatapointsToAlarm"] {
        if let Some(v) = c.get(k).and_then(Value::as_i64) {
            m.push((k, int(v)));
        }
    }
    if let Some(t) = c.get("Threshold").and_then(Value::as_f64) {
        m.push(("Threshold", Cbor::Float(t)));
    }
    if let Some(metrics) = c.get("Metrics") {
        m.push(("Metrics", json_to_cbor(metrics)));
    }
    map(m)
}

impl CloudWatch {
    pub(super) fn put_metric_alarm(&mut self, account: &str, region: &str, input: &Value, now: f64) -> Result<(), CwError> {
        let name = opt_str(input, "AlarmName")?.ok_or_else(|| required("alarmName"))?;
        length("alarmName", name, 1, 255)?;
        if let Some(d) = opt_str(input, "AlarmDescription")? {
            length("alarmDescription", d, 0, 1024)?;
        }
        for (member, wire) in
            [("OKActions", "oKActions"), ("AlarmActions", "alarmActions"), ("InsufficientDataActions", "insufficientDataActions")]
        {
            let actions = str_list(input, member)?;
            if actions.len() > 5 {
                return Err(validation(format!("1 validation error detected: Value at '{wire}' failed to satisfy constraint: Member must have length less than or equal to 5")));
            }
            for a in &actions {
                length(&format!("{wire}.member"), a, 1, 1024)?;
            }
        }
        let op = opt_str(input, "ComparisonOperator")?.ok_or_else(|| required("comparisonOperator"))?;
        one_of("comparisonOperator", op, COMPARISON_OPERATORS)?;
        let eval = opt_int(input, "EvaluationPeriods")?.ok_or_else(|| required("evaluationPeriods"))?;
        if eval < 1 {
            return Err(constraint("evaluationPeriods", &eval.to_string(), "Member must have value greater than or equal to 1"));
        }
        if let Some(dp) = opt_int(input, "DatapointsToAlarm")? {
            if dp < 1 {
                return Err(constraint("datapointsToAlarm", &dp.to_string(), "Member must have value greater than or equal to 1"));
            }
            if dp > eval {
                return Err(validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods."));
            }
        }
        if let Some(t) = opt_str(input, "TreatMissingData")? {
            one_of("treatMissingData", t, TREAT_MISSING)?;
        }
        if let Some(u) = opt_str(input, "Unit")? {
            one_of("unit", u, UNITS)?;
        }
        let threshold = opt_f64(input, "Threshold")?;
        let threshold_metric = opt_str(input, "ThresholdMetricId")?;
        if BAND_OPERATORS.contains(&op) {
            if threshold_metric.is_none() {
                return Err(validation(format!(
                    "ComparisonOperator {op} is only valid with ThresholdMetricId (an anomaly detection band)."
                )));
            }
            if threshold.is_some() {
                return Err(combination("Threshold must not be set for an anomaly detection alarm (ThresholdMetricId)."));
            }
        } else if threshold_metric.is_some() {
            return Err(validation(format!(
                "ThresholdMetricId is only valid with the comparison operators {}.",
                BAND_OPERATORS.join(", ")
            )));
        } else if threshold.is_none() {
            return Err(validation("Threshold is required for a static threshold alarm."));
        }

        let metrics = list(input, "Metrics")?;
        let statistic = opt_str(input, "Statistic")?;
        let extended = opt_str(input, "ExtendedStatistic")?;
        let period = opt_int(input, "Period")?;
        let mut dims = Vec::new();
        if !metrics.is_empty() {
            for m in ["MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Period", "Dimensions", "Unit"] {
                if input.get(m).is_some_and(|v| !v.is_null() && v != &Value::Array(vec![])) {
                    return Err(combination(format!("{m} must not be specified together with Metrics.")));
                }
            }
            let mut ids = Vec::new();
            let mut returning = 0;
            for q in metrics {
                let id = query_id(q, "metrics")?;
                if ids.contains(&id) {
                    return Err(validation(format!("The value {id} for Metrics.Id is not unique.")));
                }
                ids.push(id);
                if q.get("ReturnData").and_then(Value::as_bool).unwrap_or(true) {
                    returning += 1;
                }
                match (q.get("MetricStat"), q.get("Expression")) {
                    (Some(ms), None) => {
                        metric_stat(ms, true)?;
                    }
                    (None, Some(_)) => {}
                    _ => return Err(combination("Exactly one of MetricStat and Expression must be specified in each element of Metrics.")),
                }
            }
            if threshold_metric.is_none() && returning != 1 {
                return Err(validation("Exactly one element of the metrics list should return data."));
            }
        } else {
            let metric =
                opt_str(input, "MetricName")?.ok_or_else(|| combination("Exactly one of MetricName and Metrics must be specified."))?;
            length("metricName", metric, 1, 255)?;
            let ns = opt_str(input, "Namespace")?.ok_or_else(|| required("namespace"))?;
            namespace_ok(ns)?;
            match (statistic, extended) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(combination("Exactly one of Statistic and ExtendedStatistic must be specified."))
                }
                (Some(s), None) => one_of("statistic", s, STATISTICS)?,
                (None, Some(e)) => {
                    if percentile(e).is_none() {
                        return Err(invalid_value(format!("The value {e} for parameter ExtendedStatistic is not supported.")));
                    }
                }
            }
            let period = period.ok_or_else(|| required("period"))?;
            if period < 1 {
                return Err(constraint("period", &period.to_string(), "Member must have value greater than or equal to 1"));
            }
            if !valid_period(period, true) {
                return Err(invalid_value("The parameter Period must be 10, 20, 30 or a multiple of 60."));
            }
            let total = period.saturating_mul(eval);
            if total > 604_800 || (period < 3600 && total > 86_400) {
                return Err(validation(
                    "Period multiplied by EvaluationPeriods must be 86,400 seconds or less (604,800 for periods of an hour or more).",
                ));
            }
            dims = dimensions(input, "dimensions")?;
        }
        if let Some(e) = opt_str(input, "EvaluateLowSampleCountPercentile")? {
            one_of("evaluateLowSampleCountPercentile", e, &["evaluate", "ignore"])?;
            if extended.is_none() {
                return Err(combination("EvaluateLowSampleCountPercentile is only valid with ExtendedStatistic."));
            }
        }

        let arn = format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}");
        let r = self.region(account, region);
        let mut config = input.clone();
        if let Value::Object(o) = &mut config {
            o.remove("Tags");
        }
        match r.alarms.get_mut(name) {
            Some(a) => {
                a.config = config;
                a.dimensions = dims;
                a.config_updated = now;
            }
            None => {
                r.alarms.insert(
                    name.to_string(),
                    Alarm {
                        name: name.to_string(),
                        arn,
                        config,
                        dimensions: dims,
                        state: "INSUFFICIENT_DATA".into(),
                        reason: "Unchecked: Initial alarm creation".into(),
                        reason_data: None,
                        state_updated: now,
                        state_transitioned: now,
                        config_updated: now,
                    },
                );
            }
        }
        Ok(())
    }

    pub(super) fn describe_alarms(&mut self, account: &str, region: &str, input: &Value) -> Result<Cbor, CwError> {
        let names = str_list(input, "AlarmNames")?;
        if names.len() > 100 {
            return Err(validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100"));
        }
        let prefix = opt_str(input, "AlarmNamePrefix")?;
        if let Some(p) = prefix {
            length("alarmNamePrefix", p, 1, 255)?;
            if !names.is_empty() {
                return Err(combination("AlarmNames and AlarmNamePrefix are mutually exclusive."));
            }
        }
        let state = opt_str(input, "StateValue")?;
        if let Some(s) = state {
            one_of("stateValue", s, STATES)?;
        }
        let action_prefix = opt_str(input, "ActionPrefix")?;
        let types = str_list(input, "AlarmTypes")?;
        for t in &types {
            one_of("alarmTypes.member", t, &["CompositeAlarm", "MetricAlarm"])?;
        }
        let max = opt_int(input, "MaxRecords")?.unwrap_or(50);
        if !(1..=100).contains(&max) {
            return Err(constraint("maxRecords", &max.to_string(), "Member must have value between 1 and 100"));
        }
        let start = match opt_str(input, "NextToken")? {
            None => 0,
            Some(t) => t.parse::<usize>().map_err(|_| err(400, "InvalidNextToken", "The service returned an invalid NextToken."))?,
        };
        let want_metric = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
        let r = self.region(account, region);
        let matching: Vec<&Alarm> = r
            .alarms
            .values()
            .filter(|_| want_metric)
            .filter(|a| names.is_empty() || names.contains(&a.name))
            .filter(|a| prefix.is_none_or(|p| a.name.starts_with(p)))
            .filter(|a| state.is_none_or(|s| a.state == s))
            .filter(|a| {
                action_prefix.is_none_or(|p| {
                    ["OKActions", "AlarmActions", "InsufficientDataActions"]
                        .iter()
                        .any(|m| list(&a.config, m).unwrap_or(&[]).iter().any(|v| v.as_str().is_some_and(|s| s.starts_with(p))))
                })
            })
            .collect();
        if start > matching.len() {
            return Err(err(400, "InvalidNextToken", "The service returned an invalid NextToken."));
        }
        let end = (start + max as usize).min(matching.len());
        let page: Vec<Cbor> = matching[start..end].iter().map(|a| render_alarm(a)).collect();
        let mut out = vec![("MetricAlarms", Cbor::Array(page)), ("CompositeAlarms", Cbor::Array(vec![]))];
        if end < matching.len() {
            out.push(("NextToken", text(&end.to_string())));
        }
        Ok(map(out))
    }

    pub(super) fn delete_alarms(&mut self, account: &str, region: &str, input: &Value) -> Result<(), CwError> {
        let names = str_list(input, "AlarmNames")?;
        if input.get("AlarmNames").is_none() {
            return Err(required("alarmNames"));
        }
        if names.len() > 100 {
            return Err(validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100"));
        }
        let r = self.region(account, region);
        // "If you specify an incorrect alarm name ... no alarms are deleted."
        if let Some(unknown) = names.iter().find(|n| !r.alarms.contains_key(*n)) {
            return Err(not_found(format!("Alarm {unknown} does not exist; no alarms were deleted.")));
        }
        for n in &names {
            r.alarms.remove(n);
        }
        Ok(())
    }

    pub(super) fn set_alarm_state(&mut self, account: &str, region: &str, input: &Value, now: f64) -> Result<(), CwError> {
        let name = opt_str(input, "AlarmName")?.ok_or_else(|| required("alarmName"))?;
        length("alarmName", name, 1, 255)?;
        let state = opt_str(input, "StateValue")?.ok_or_else(|| required("stateValue"))?;
        one_of("stateValue", state, STATES)?;
        let reason = opt_str(input, "StateReason")?.ok_or_else(|| required("stateReason"))?;
        length("stateReason", reason, 0, 1023)?;
        let data = opt_str(input, "StateReasonData")?;
        if let Some(d) = data {
            length("stateReasonData", d, 0, 4000)?;
            if serde_json::from_str::<Value>(d).is_err() {
                return Err(err(400, "InvalidFormat", "StateReasonData must be valid JSON."));
            }
        }
        let r = self.region(account, region);
        let a = r.alarms.get_mut(name).ok_or_else(|| not_found(format!("Alarm {name} not found")))?;
        if a.state != state {
            a.state_transitioned = now;
        }
        a.state = state.to_string();
        a.reason = reason.to_string();
        a.reason_data = data.map(str::to_string);
        a.state_updated = now;
        Ok(())
    }
}
