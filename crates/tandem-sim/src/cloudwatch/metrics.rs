//! Metric data: PutMetricData and GetMetricData (MetricStat queries per period).
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html

use super::*;

pub(super) fn namespace_ok(ns: &str) -> Result<(), CwError> {
    length("namespace", ns, 1, 255)?;
    if ns.starts_with(':') {
        return Err(constraint("namespace", ns, "Member must satisfy regular expression pattern: [^:].*"));
    }
    Ok(())
}

/// A query `Id`: starts with a lowercase letter, then letters, digits, `_`.
pub(super) fn query_id(q: &Value, member: &str) -> Result<String, CwError> {
    let id = opt_str(q, "Id")?.ok_or_else(|| required(&format!("{member}.member.id")))?;
    length(&format!("{member}.member.id"), id, 1, 255)?;
    let mut chars = id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(validation(format!("The value {id} for parameter Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.")));
    }
    Ok(id.to_string())
}

pub(super) struct Stat {
    namespace: String,
    metric: String,
    dimensions: Vec<(String, String)>,
    period: i64,
    stat: String,
    unit: Option<String>,
}

pub(super) fn metric_stat(ms: &Value, alarm: bool) -> Result<Stat, CwError> {
    let metric = ms.get("Metric").ok_or_else(|| required("metricStat.metric"))?;
    let name = opt_str(metric, "MetricName")?.ok_or_else(|| required("metricStat.metric.metricName"))?;
    let ns = opt_str(metric, "Namespace")?.ok_or_else(|| required("metricStat.metric.namespace"))?;
    namespace_ok(ns)?;
    let dims = dimensions(metric, "metricStat.metric.dimensions")?;
    let period = opt_int(ms, "Period")?.ok_or_else(|| required("metricStat.period"))?;
    if period < 1 || !valid_period(period, alarm) {
        return Err(invalid_value(format!(
            "The value {period} for parameter MetricStat.Period is invalid: it must be 1, 5, 10, 20, 30 or a multiple of 60."
        )));
    }
    let stat = opt_str(ms, "Stat")?.ok_or_else(|| required("metricStat.stat"))?;
    if !STATISTICS.contains(&stat) && percentile(stat).is_none() {
        return Err(invalid_value(format!(
            "The value {stat} for parameter MetricStat.Stat is not supported (Sum, Average, Maximum, Minimum, SampleCount, pNN)."
        )));
    }
    let unit = opt_str(ms, "Unit")?;
    if let Some(u) = unit {
        one_of("metricStat.unit", u, UNITS)?;
    }
    Ok(Stat { namespace: ns.into(), metric: name.into(), dimensions: dims, period, stat: stat.into(), unit: unit.map(str::to_string) })
}

/// One statistic over the datapoints of a period; `None` when it has no samples.
pub(super) fn aggregate(points: &[&Datapoint], stat: &str) -> Option<f64> {
    let (mut count, mut sum, mut min, mut max) = (0.0f64, 0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    let mut samples: Vec<(f64, f64)> = Vec::new();
    for p in points {
        if let Some((c, s, lo, hi)) = p.set {
            count += c;
            sum += s;
            min = min.min(lo);
            max = max.max(hi);
            // A statistic set gives no distribution: its mean stands in for percentiles.
            samples.push((s / c, c));
        }
        for (v, c) in &p.samples {
            count += c;
            sum += v * c;
            min = min.min(*v);
            max = max.max(*v);
            samples.push((*v, *c));
        }
    }
    if count <= 0.0 {
        return None;
    }
    Some(match stat {
        "Sum" => sum,
        "Average" => sum / count,
        "Maximum" => max,
        "Minimum" => min,
        "SampleCount" => count,
        other => {
            let p = percentile(other)?;
            samples.sort_by(|a, b| a.0.total_cmp(&b.0));
            // Nearest rank over the weighted samples.
            let rank = (p / 100.0 * count).ceil().max(1.0);
            let mut seen = 0.0;
            let mut out = samples.last()?.0;
            for (v, c) in &samples {
                seen += c;
                if seen >= rank {
                    out = *v;
                    break;
                }
            }
            out
        }
    })
}

impl CloudWatch {
    pub(super) fn put_metric_data(&mut self, account: &str, region: &str, input: &Value, now: f64) -> Result<(), CwError> {
        let ns = opt_str(input, "Namespace")?.ok_or_else(|| missing("The parameter Namespace is required."))?;
        namespace_ok(ns)?;
        if ns.starts_with("AWS/") {
            return Err(invalid_value(format!(
                "The value {ns} for parameter Namespace is invalid: the AWS/ prefix is reserved for AWS services."
            )));
        }
        let data = list(input, "MetricData")?;
        if data.is_empty() && input.get("EntityMetricData").is_none() {
            return Err(missing("The parameter MetricData is required."));
        }
        if data.len() > 1000 {
            return Err(invalid_value("The collection MetricData must not have a size greater than 1000."));
        }
        let mut points = Vec::new();
        for (i, d) in data.iter().enumerate() {
            let n = i + 1;
            let metric =
                opt_str(d, "MetricName")?.ok_or_else(|| missing(format!("The parameter MetricData.member.{n}.MetricName is required.")))?;
            length(&format!("metricData.{n}.member.metricName"), metric, 1, 255)?;
            let dims = dimensions(d, &format!("metricData.{n}.member.dimensions"))?;
            let unit = opt_str(d, "Unit")?;
            if let Some(u) = unit {
                one_of(&format!("metricData.{n}.member.unit"), u, UNITS)?;
            }
            let value = opt_f64(d, "Value")?;
            let values: Vec<f64> = list(d, "Values")?.iter().map(|v| as_f64(v).unwrap_or(f64::NAN)).collect();
            let counts: Vec<f64> = list(d, "Counts")?.iter().map(|v| as_f64(v).unwrap_or(f64::NAN)).collect();
            let set = match d.get("StatisticValues") {
                None | Some(Value::Null) => None,
                Some(s) => {
                    let get = |m: &str| -> Result<f64, CwError> {
                        opt_f64(s, m)?
                            .ok_or_else(|| missing(format!("The parameter MetricData.member.{n}.StatisticValues.{m} is required.")))
                    };
                    let set = (get("SampleCount")?, get("Sum")?, get("Minimum")?, get("Maximum")?);
                    if set.0 <= 0.0 || set.2 > set.3 {
                        return Err(invalid_value(format!(
                            "The StatisticValues of MetricData.member.{n} are inconsistent (SampleCount > 0, Minimum <= Maximum)."
                        )));
                    }
                    Some(set)
                }
            };
            let given = [value.is_some(), !values.is_empty(), set.is_some()].iter().filter(|b| **b).count();
            if given > 1 {
                return Err(combination(format!("The parameters MetricData.member.{n}.Value, MetricData.member.{n}.Values and MetricData.member.{n}.StatisticValues are mutually exclusive.")));
            }
            if given == 0 {
                return Err(missing(format!("One of the parameters MetricData.member.{n}.Value, Values or StatisticValues is required.")));
            }
            if !counts.is_empty() && counts.len() != values.len() {
                return Err(invalid_value(format!(
                    "The parameters MetricData.member.{n}.Values and MetricData.member.{n}.Counts must be of the same size."
                )));
            }
            if values.len() > 150 {
                return Err(invalid_value(format!("The collection MetricData.member.{n}.Values must not have a size greater than 150.")));
            }
            let mut samples: Vec<(f64, f64)> = match value {
                Some(v) => vec![(v, 1.0)],
                None => values.iter().enumerate().map(|(i, v)| (*v, counts.get(i).copied().unwrap_or(1.0))).collect(),
            };
            let all = samples.iter().flat_map(|(v, c)| [*v, *c]).chain(set.iter().flat_map(|s| [s.0, s.1, s.2, s.3]));
            for x in all {
                if !x.is_finite() || x.abs() > 2f64.powi(360) || (x != 0.0 && x.abs() < 2f64.powi(-260)) {
                    return Err(invalid_value(format!(
                        "The value {x} for parameter MetricData.member.{n} is invalid (not a number, infinite, or out of range)."
                    )));
                }
            }
            samples.retain(|(_, c)| *c > 0.0);
            let timestamp = opt_f64(d, "Timestamp")?.unwrap_or(now);
            if timestamp < now - 14.0 * 86_400.0 || timestamp > now + 2.0 * 3600.0 {
                return Err(invalid_value(format!(
                    "The parameter MetricData.member.{n}.Timestamp must be at most two weeks in the past and two hours in the future."
                )));
            }
            points.push(Datapoint {
                namespace: ns.to_string(),
                metric: metric.to_string(),
                dimensions: dims,
                timestamp,
                unit: unit.map(str::to_string),
                samples,
                set,
            });
        }
        self.region(account, region).data.extend(points);
        Ok(())
    }

    pub(super) fn get_metric_data(&mut self, account: &str, region: &str, input: &Value) -> Result<Cbor, CwError> {
        let queries = list(input, "MetricDataQueries")?;
        if input.get("MetricDataQueries").is_none() {
            return Err(required("metricDataQueries"));
        }
        if queries.len() > 500 {
            return Err(validation("1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to 500"));
        }
        let start = opt_f64(input, "StartTime")?.ok_or_else(|| required("startTime"))?;
        let end = opt_f64(input, "EndTime")?.ok_or_else(|| required("endTime"))?;
        if start >= end {
            return Err(validation("The parameter StartTime must be less than the parameter EndTime."));
        }
        let ascending = match opt_str(input, "ScanBy")? {
            None => false,
            Some(s) => {
                one_of("scanBy", s, &["TimestampDescending", "TimestampAscending"])?;
                s == "TimestampAscending"
            }
        };
        let mut ids = Vec::new();
        let mut parsed = Vec::new();
        for q in queries {
            let id = query_id(q, "metricDataQueries")?;
            if ids.contains(&id) {
                return Err(validation(format!("The value {id} for MetricDataQueries.Id is not unique.")));
            }
            ids.push(id.clone());
            let stat = match (q.get("MetricStat"), q.get("Expression")) {
                (Some(ms), None) => metric_stat(ms, false)?,
                (None, Some(_)) => {
                    return Err(validation(format!(
                        "MetricDataQuery {id}: metric math expressions are not evaluated by the tandem sandbox."
                    )))
                }
                _ => {
                    return Err(combination(format!("Exactly one of MetricStat and Expression must be specified in MetricDataQuery {id}.")))
                }
            };
            parsed.push((id, q, stat));
        }
        let r = self.region(account, region);
        let mut results = Vec::new();
        for (id, q, s) in parsed {
            if !q.get("ReturnData").and_then(Value::as_bool).unwrap_or(true) {
                continue;
            }
            let period = s.period as f64;
            // Buckets aligned to the period (from the epoch), each [t, t + period).
            let mut buckets: BTreeMap<i64, Vec<&Datapoint>> = BTreeMap::new();
            for p in &r.data {
                if p.namespace == s.namespace
                    && p.metric == s.metric
                    && p.dimensions == s.dimensions
                    && p.timestamp >= start
                    && p.timestamp < end
                    && s.unit.as_ref().is_none_or(|u| p.unit.as_deref().unwrap_or("None") == u)
                {
                    buckets.entry((p.timestamp / period).floor() as i64).or_default().push(p);
                }
            }
            let mut rows: Vec<(f64, f64)> =
                buckets.into_iter().filter_map(|(b, ps)| aggregate(&ps, &s.stat).map(|v| (b as f64 * period, v))).collect();
            if !ascending {
                rows.reverse();
            }
            let label = q.get("Label").and_then(Value::as_str).unwrap_or(&s.metric).to_string();
            results.push(map(vec![
                ("Id", text(&id)),
                ("Label", text(&label)),
                ("Timestamps", Cbor::Array(rows.iter().map(|(t, _)| ts(*t)).collect())),
                ("Values", Cbor::Array(rows.iter().map(|(_, v)| Cbor::Float(*v)).collect())),
                ("StatusCode", text("Complete")),
                ("Messages", Cbor::Array(vec![])),
            ]));
        }
        Ok(map(vec![("MetricDataResults", Cbor::Array(results)), ("Messages", Cbor::Array(vec![]))]))
    }
}
