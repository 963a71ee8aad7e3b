//! EventBridge schedules that fire: rules on the default bus with a
//! `rate(...)` or `cron(...)` ScheduleExpression invoke their Lambda targets
//! on time, asynchronously, with the "Scheduled Event" document
//! (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html,
//! https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
//! moto stores the rules; the sandbox follows PutRule / PutTargets /
//! RemoveTargets / DeleteRule / EnableRule / DisableRule as they go by.
//!
//! EventBridge invokes a function only when the function's resource-based
//! policy lets `events.amazonaws.com` do so for the rule; otherwise the
//! invocation fails (counted as failed here, as FailedInvocations on AWS).
//!
//! A time scale (`PUT /_tandem/schedules {"time_scale": 60}`) runs the
//! schedules' clock faster, so `rate(1 minute)` fires every second in tests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};

use super::{InvocationType, Lambda};
use crate::support::time::{civil, epoch_secs};

/// The EventBridge operations the scheduler follows.
pub const FOLLOWED: &[&str] = &["PutRule", "PutTargets", "RemoveTargets", "DeleteRule", "EnableRule", "DisableRule"];

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub id: String,
    pub arn: String,
    pub input: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub region: String,
    pub name: String,
    pub arn: String,
    pub expression: Option<String>,
    pub enabled: bool,
    pub targets: Vec<Target>,
    /// When it fires next, on the schedules' clock (epoch seconds).
    pub next_at: Option<f64>,
    pub fired: u64,
    pub failed: u64,
    pub last_error: Option<String>,
}

/// The followed rules and the schedules' clock.
#[derive(Debug)]
pub struct Schedules {
    pub rules: BTreeMap<(String, String), Rule>,
    pub time_scale: f64,
    /// (real instant, clock reading then): the clock runs `time_scale` times as fast from there.
    base: (Instant, f64),
}

impl Default for Schedules {
    fn default() -> Self {
        Schedules { rules: BTreeMap::new(), time_scale: 1.0, base: (Instant::now(), epoch_secs()) }
    }
}

fn iso(secs: f64) -> String {
    let s = secs.floor() as i64;
    let (y, m, d) = civil(s.div_euclid(86_400));
    let t = s.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", t / 3600, t % 3600 / 60, t % 60)
}

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Every so many seconds.
    Rate(f64),
    Cron(Box<Cron>),
}

/// AWS's six cron fields, each the set of values it allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    /// 1 = Sunday ... 7 = Saturday, as AWS numbers them.
    weekdays: Vec<bool>,
    years: Option<Vec<bool>>,
    day_any: bool,
    weekday_any: bool,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn field(spec: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<bool>, String> {
    let mut set = vec![false; hi as usize + 1];
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(lo + i as u32);
        }
        s.parse::<u32>().map_err(|_| format!("{s:?} is not a value"))
    };
    for part in spec.split(',') {
        if part.contains(['L', 'W', '#']) && names.iter().all(|n| !part.to_ascii_uppercase().contains(n)) {
            return Err(format!("{part}: L, W and # are not run by the sandbox's scheduler"));
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| format!("{s:?} is not a step"))?),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" | "?" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, hi),
                None => {
                    let v = value(r)?;
                    (v, v)
                }
            },
        };
        if a < lo || b > hi || a > b || step == 0 {
            return Err(format!("{part} is outside {lo}-{hi}"));
        }
        let mut v = a;
        while v <= b {
            set[v as usize] = true;
            v += step;
        }
    }
    Ok(set)
}

impl Schedule {
    /// `rate(5 minutes)`, `cron(0 12 * * ? *)`.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = expr.trim();
        if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            let mut it = body.split_whitespace();
            let (n, unit) = (it.next().and_then(|n| n.parse::<f64>().ok()), it.next());
            let secs = match unit {
                Some("minute" | "minutes") => 60.0,
                Some("hour" | "hours") => 3600.0,
                Some("day" | "days") => 86_400.0,
                _ => return Err(format!("{expr}: the unit is minute(s), hour(s) or day(s)")),
            };
            return match n {
                Some(n) if n > 0.0 => Ok(Schedule::Rate(n * secs)),
                _ => Err(format!("{expr}: the value is a number above 0")),
            };
        }
        let body =
            expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')).ok_or_else(|| format!("{expr} is not rate(...) or cron(...)"))?;
        let f: Vec<&str> = body.split_whitespace().collect();
        if f.len() != 6 {
            return Err(format!("{expr}: cron takes six fields (minutes hours day-of-month month day-of-week year)"));
        }
        Ok(Schedule::Cron(Box::new(Cron {
            minutes: field(f[0], 0, 59, &[])?,
            hours: field(f[1], 0, 23, &[])?,
            days: field(f[2], 1, 31, &[])?,
            months: field(f[3], 1, 12, &MONTHS)?,
            weekdays: field(f[4], 1, 7, &WEEKDAYS)?,
            years: if f[5] == "*" { None } else { Some(field(f[5], 1970, 2199, &[])?) },
            day_any: f[2] == "?" || f[2] == "*",
            weekday_any: f[4] == "?" || f[4] == "*",
        })))
    }

    /// The first firing after `after` (epoch seconds); a rate counts from `from`.
    pub fn next(&self, from: f64, after: f64) -> Option<f64> {
        match self {
            Schedule::Rate(p) => {
                let n = ((after - from) / p).floor() + 1.0;
                Some(from + n.max(1.0) * p)
            }
            Schedule::Cron(c) => {
                let first = (after / 60.0).floor() as i64 + 1;
                // At most a few years of minutes: a schedule that never fires is None.
                for m in first..first + 4 * 366 * 1440 {
                    let days = m.div_euclid(1440);
                    let (y, mo, d) = civil(days);
                    let minute = (m.rem_euclid(1440) % 60) as usize;
                    let hour = (m.rem_euclid(1440) / 60) as usize;
                    let wd = (days + 4).rem_euclid(7) as usize + 1;
                    let day_ok = match (c.day_any, c.weekday_any) {
                        (true, true) => true,
                        (false, true) => c.days[d as usize],
                        (true, false) => c.weekdays[wd],
                        (false, false) => c.days[d as usize] || c.weekdays[wd],
                    };
                    let year_ok = c.years.as_ref().is_none_or(|ys| (1970..=2199).contains(&y) && ys[y as usize]);
                    if c.minutes[minute] && c.hours[hour] && c.months[mo as usize] && day_ok && year_ok {
                        return Some(m as f64 * 60.0);
                    }
                }
                None
            }
        }
    }
}

impl Schedules {
    /// The schedules' clock now.
    pub fn clock(&self) -> f64 {
        self.base.1 + self.base.0.elapsed().as_secs_f64() * self.time_scale
    }

    pub fn set_scale(&mut self, scale: f64) {
        self.base = (Instant::now(), self.clock());
        self.time_scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
        let now = self.clock();
        let rules: Vec<(String, String)> = self.rules.keys().cloned().collect();
        for k in rules {
            self.plan(&k, now);
        }
    }

    fn plan(&mut self, key: &(String, String), from: f64) {
        let now = self.clock();
        if let Some(r) = self.rules.get_mut(key) {
            r.next_at = r.expression.as_deref().and_then(|e| Schedule::parse(e).ok()).and_then(|s| s.next(from, now));
            r.last_error = match r.expression.as_deref().map(Schedule::parse) {
                Some(Err(e)) => Some(e),
                _ => r.last_error.take(),
            };
        }
    }

    /// An EventBridge call moto accepted; `answer` is moto's answer.
    pub fn follow(&mut self, region: &str, operation: &str, input: &Value, answer: &Value) {
        let name = input.get("Name").or_else(|| input.get("Rule")).and_then(Value::as_str).unwrap_or_default().to_string();
        let bus = input.get("EventBusName").and_then(Value::as_str).unwrap_or("default");
        if bus != "default" && !bus.ends_with(":event-bus/default") {
            return;
        }
        let key = (region.to_string(), name.clone());
        match operation {
            "PutRule" => {
                let now = self.clock();
                let arn = answer
                    .get("RuleArn")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("arn:aws:events:{region}:{}:rule/{name}", super::ACCOUNT));
                let r = self.rules.entry(key.clone()).or_insert_with(|| Rule {
                    region: region.into(),
                    name: name.clone(),
                    arn: arn.clone(),
                    expression: None,
                    enabled: true,
                    targets: Vec::new(),
                    next_at: None,
                    fired: 0,
                    failed: 0,
                    last_error: None,
                });
                r.arn = arn;
                r.expression = input.get("ScheduleExpression").and_then(Value::as_str).map(str::to_string);
                r.enabled = input.get("State").and_then(Value::as_str) != Some("DISABLED");
                self.plan(&key, now);
            }
            "PutTargets" => {
                if let Some(r) = self.rules.get_mut(&key) {
                    for t in input.get("Targets").and_then(Value::as_array).into_iter().flatten() {
                        let id = t.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
                        r.targets.retain(|x| x.id != id);
                        r.targets.push(Target {
                            id,
                            arn: t.get("Arn").and_then(Value::as_str).unwrap_or_default().into(),
                            input: t.get("Input").and_then(Value::as_str).map(str::to_string),
                        });
                    }
                }
            }
            "RemoveTargets" => {
                if let Some(r) = self.rules.get_mut(&key) {
                    let ids: Vec<&str> =
                        input.get("Ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
                    r.targets.retain(|t| !ids.contains(&t.id.as_str()));
                }
            }
            "DeleteRule" => {
                self.rules.remove(&key);
            }
            "EnableRule" | "DisableRule" => {
                let now = self.clock();
                if let Some(r) = self.rules.get_mut(&key) {
                    r.enabled = operation == "EnableRule";
                }
                self.plan(&key, now);
            }
            _ => {}
        }
    }

    /// The firings due now: (rule, its targets); each rule's next time moves on.
    fn due(&mut self) -> Vec<(Rule, f64)> {
        let now = self.clock();
        let mut out = Vec::new();
        for r in self.rules.values_mut() {
            let Some(at) = r.next_at else { continue };
            if at > now {
                continue;
            }
            let sched = r.expression.as_deref().and_then(|e| Schedule::parse(e).ok());
            r.next_at = match &sched {
                Some(Schedule::Rate(p)) => Some(at + p * ((now - at) / p).floor().max(0.0) + p),
                Some(s) => s.next(at, now),
                None => None,
            };
            if r.enabled && !r.targets.is_empty() {
                r.fired += 1;
                out.push((r.clone(), at));
            }
        }
        out
    }

    fn failed(&mut self, key: &(String, String), why: String) {
        if let Some(r) = self.rules.get_mut(key) {
            r.failed += 1;
            r.last_error = Some(why);
        }
    }
}

/// The "Scheduled Event" EventBridge sends a target.
fn scheduled_event(rule: &Rule, at: f64) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": super::ACCOUNT,
        "time": iso(at),
        "region": rule.region,
        "resources": [rule.arn],
        "detail": {}
    })
}

/// Fires due schedules until the sandbox stops.
pub async fn run(lambda: Arc<Lambda>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = stop.changed() => return,
        }
        let due = lambda.schedules.lock().unwrap_or_else(|e| e.into_inner()).due();
        for (rule, at) in due {
            for t in rule.targets.iter().filter(|t| t.arn.starts_with("arn:aws:lambda:")) {
                let (lambda, rule, t) = (lambda.clone(), rule.clone(), t.clone());
                tokio::spawn(async move {
                    let key = (rule.region.clone(), rule.name.clone());
                    let region = t.arn.split(':').nth(3).unwrap_or(&rule.region).to_string();
                    if !lambda.allows(&region, &t.arn, "events.amazonaws.com", &rule.arn).await {
                        let why =
                            format!("{} does not let events.amazonaws.com invoke it for {} (add a lambda permission)", t.arn, rule.arn);
                        lambda.schedules.lock().unwrap_or_else(|e| e.into_inner()).failed(&key, why);
                        return;
                    }
                    let payload = t.input.clone().map(Bytes::from).unwrap_or_else(|| Bytes::from(scheduled_event(&rule, at).to_string()));
                    if let Err(e) =
                        lambda.invoke(&region, &t.arn, payload, InvocationType::Event, false, &format!("schedule:{}", rule.name)).await
                    {
                        lambda.schedules.lock().unwrap_or_else(|e| e.into_inner()).failed(&key, format!("{}: {}", e.code, e.message));
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_crons() {
        assert_eq!(Schedule::parse("rate(1 minute)"), Ok(Schedule::Rate(60.0)));
        assert_eq!(Schedule::parse("rate(5 minutes)").unwrap().next(0.0, 0.0), Some(300.0));
        assert_eq!(Schedule::parse("rate(5 minutes)").unwrap().next(0.0, 301.0), Some(600.0));
        assert!(Schedule::parse("rate(0 minutes)").is_err());
        assert!(Schedule::parse("rate(2 weeks)").is_err());
        // 2026-11-30 is a Monday; 12:00 UTC every day.
        let c = Schedule::parse("cron(0 12 * * ? *)").unwrap();
        let monday = 20_787.0 * 86_400.0;
        assert_eq!(iso(monday), "2026-11-30T00:00:00Z");
        assert_eq!(c.next(0.0, monday), Some(monday + 12.0 * 3600.0));
        // Weekdays (MON-FRI) at 08:15.
        let c = Schedule::parse("cron(15 8 ? * MON-FRI *)").unwrap();
        let saturday = monday + 5.0 * 86_400.0;
        let next = c.next(0.0, saturday).unwrap();
        assert_eq!(next, monday + 7.0 * 86_400.0 + 8.0 * 3600.0 + 15.0 * 60.0);
        // Every 10 minutes.
        let c = Schedule::parse("cron(0/10 * * * ? *)").unwrap();
        assert_eq!(c.next(0.0, monday + 61.0), Some(monday + 600.0));
        assert!(Schedule::parse("cron(0 12 * *)").is_err());
        assert!(Schedule::parse("cron(0 12 L * ? *)").is_err());
        assert!(Schedule::parse("every minute").is_err());
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_422), (2025, 11, 30));
        assert_eq!(civil(20_787), (2026, 11, 30));
        assert_eq!(iso(0.0), "1970-01-01T00:00:00Z");
    }
}
