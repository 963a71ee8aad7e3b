//! `aws.connect.hours_of_operation`: when a queue takes contacts
//! (CreateHoursOfOperation / DescribeHoursOfOperation /
//! UpdateHoursOfOperation / DeleteHoursOfOperation).
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateHoursOfOperation.html

use super::object::{required, Client, Described, ObjectApi};
use crate::classify;
use async_trait::async_trait;
use aws_sdk_connect::types::{HoursOfOperationConfig, HoursOfOperationDays, HoursOfOperationTimeSlice};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use tandem_provider::{required_id, prop_str, Invalid, KindSchema, ProviderError, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

const DAYS: &[&str] = &["SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"];

pub(super) struct HoursOfOperation;

fn slice() -> Type {
    Type::Object(vec![
        Field::new("hours", Type::Integer).required().check(Check::Range(0, 23)).doc("Hours, 0-23."),
        Field::new("minutes", Type::Integer).required().check(Check::Range(0, 59)).doc("Minutes, 0-59."),
    ])
}

fn time(v: &Value, which: &str) -> (i64, i64) {
    let t = v.get(which);
    let n = |k: &str| t.and_then(|t| t.get(k)).and_then(Value::as_i64).unwrap_or(-1);
    (n("hours"), n("minutes"))
}

fn config(p: &Map<String, Value>) -> Result<Vec<HoursOfOperationConfig>> {
    let mut out = Vec::new();
    for c in p.get("config").and_then(Value::as_array).into_iter().flatten() {
        let slice = |which: &str| {
            let (h, m) = time(c, which);
            HoursOfOperationTimeSlice::builder()
                .hours(h as i32)
                .minutes(m as i32)
                .build()
                .map_err(|e| ProviderError::invalid(format!("config {which}: {e}")))
        };
        let day = c.get("day").and_then(Value::as_str).unwrap_or_default();
        out.push(
            HoursOfOperationConfig::builder()
                .day(HoursOfOperationDays::from(day))
                .start_time(slice("start_time")?)
                .end_time(slice("end_time")?)
                .build()
                .map_err(|e| ProviderError::invalid(format!("config {day}: {e}")))?,
        );
    }
    Ok(out)
}

#[async_trait]
impl ObjectApi for HoursOfOperation {
    const ARN_SEGMENT: &'static str = "operating-hours";
    const NOUN: &'static str = "hours of operation";
    const PERMISSIONS: &'static [&'static str] = &[
        "connect:CreateHoursOfOperation",
        "connect:DescribeHoursOfOperation",
        "connect:ListHoursOfOperations",
        "connect:UpdateHoursOfOperation",
        "connect:DeleteHoursOfOperation",
        "connect:DescribeInstance",
        "connect:TagResource",
        "connect:UntagResource",
    ];

    fn schema() -> KindSchema {
        KindSchema {
            type_name: "aws.connect.hours_of_operation",
            doc: "Hours of operation of an Amazon Connect instance: the days and times its queues take contacts. Global Resiliency mirrors it to the replica of a replicated instance under the same id and keeps both in sync (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#mirrored-resources): declare it once, against the source instance; tandem waits for the copy and reports drift in either region.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_CreateHoursOfOperation.html",
            regional: true,
            properties: vec![
                Field::new("instance_id", Type::String).required().force_new().refers_to(&["aws.connect.instance"]).doc(super::object::INSTANCE_DOC),
                Field::new("name", Type::String).required().check(Check::Length(1, 127)).doc("Name, unique in the instance; defaults to the resource's key."),
                Field::new("description", Type::String).check(Check::Length(1, 250)).doc("Description."),
                Field::new("time_zone", Type::String).required().doc("TimeZone, an IANA zone such as America/New_York."),
                Field::new(
                    "config",
                    Type::list(Type::Object(vec![
                        Field::new("day", Type::enumeration(DAYS)).required().doc("Day."),
                        Field::new("start_time", slice()).required().doc("StartTime."),
                        Field::new("end_time", slice()).required().doc("EndTime (00:00 = midnight, the end of the day)."),
                    ])),
                )
                .required()
                .unordered()
                .doc("Config: one entry per open period; a day without an entry is closed."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("id", "HoursOfOperationId."), OutputDef::new("arn", "HoursOfOperationArn.")],
            name_field: Some("name"),
            import_id: "the hours of operation's ARN (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/operating-hours/ID)",
        }
    }

    fn check(p: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        for c in p.get("config").and_then(Value::as_array).into_iter().flatten() {
            let (s, e) = (time(c, "start_time"), time(c, "end_time"));
            // An end of 00:00 means midnight; otherwise a period must not end before it starts.
            if e != (0, 0) && s.0 >= 0 && e.0 >= 0 && e < s {
                let day = c.get("day").and_then(Value::as_str).unwrap_or("?");
                out.push(Invalid::new(
                    "config",
                    format!("{day}: the period ends ({:02}:{:02}) before it starts ({:02}:{:02})", e.0, e.1, s.0, s.1),
                ));
            }
        }
        out
    }

    async fn create(c: &Client, instance: &str, p: &Map<String, Value>, tags: HashMap<String, String>) -> Result<String> {
        let name = required(p, "name")?;
        let out = c
            .create_hours_of_operation()
            .instance_id(instance)
            .name(name)
            .set_description(prop_str(p, "description").map(str::to_string))
            .time_zone(required(p, "time_zone")?)
            .set_config(Some(config(p)?))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| classify("CreateHoursOfOperation", name, e))?;
        required_id("aws.connect.hours_of_operation", "CreateHoursOfOperation", out.hours_of_operation_arn())
    }

    async fn describe(c: &Client, instance: &str, id: &str) -> Result<Option<Described>> {
        let out = c
            .describe_hours_of_operation()
            .instance_id(instance)
            .hours_of_operation_id(id)
            .send()
            .await
            .map_err(|e| classify("DescribeHoursOfOperation", id, e))?;
        let Some(h) = out.hours_of_operation() else { return Ok(None) };
        let mut p = Map::new();
        p.insert("name".into(), json!(h.name()));
        if let Some(d) = h.description() {
            p.insert("description".into(), json!(d));
        }
        p.insert("time_zone".into(), json!(h.time_zone()));
        let slice = |t: Option<&HoursOfOperationTimeSlice>| t.map(|t| json!({"hours": t.hours(), "minutes": t.minutes()}));
        let config: Vec<Value> = h
            .config()
            .iter()
            .map(|c| json!({"day": c.day().as_str(), "start_time": slice(c.start_time()), "end_time": slice(c.end_time())}))
            .collect();
        p.insert("config".into(), json!(config));
        Ok(Some(Described { props: p, arn: h.hours_of_operation_arn().unwrap_or_default().to_string(), tags: h.tags().cloned() }))
    }

    async fn find(c: &Client, instance: &str, name: &str) -> Result<Option<String>> {
        crate::connect_find_by_name!(c, instance, name, "ListHoursOfOperations", list_hours_of_operations, hours_of_operation_summary_list)
    }

    /// UpdateHoursOfOperation takes every field at once.
    async fn update(c: &Client, instance: &str, id: &str, d: &Map<String, Value>, _changed: &[String]) -> Result<()> {
        c.update_hours_of_operation()
            .instance_id(instance)
            .hours_of_operation_id(id)
            .set_name(prop_str(d, "name").map(str::to_string))
            .set_description(prop_str(d, "description").map(str::to_string))
            .set_time_zone(prop_str(d, "time_zone").map(str::to_string))
            .set_config(Some(config(d)?))
            .send()
            .await
            .map_err(|e| classify("UpdateHoursOfOperation", id, e))?;
        Ok(())
    }

    async fn delete(c: &Client, instance: &str, id: &str) -> Result<()> {
        c.delete_hours_of_operation()
            .instance_id(instance)
            .hours_of_operation_id(id)
            .send()
            .await
            .map_err(|e| classify("DeleteHoursOfOperation", id, e))?;
        Ok(())
    }
}
