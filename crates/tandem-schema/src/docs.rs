//! Markdown reference pages generated from a kind's schema.

use crate::{Check, Field, KindSchema, Type};
use std::fmt::Write;

pub fn render_markdown(k: &KindSchema) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# `{}`\n", k.type_name);
    let _ = writeln!(s, "{}\n", k.doc);
    if !k.api_reference.is_empty() {
        let _ = writeln!(s, "API reference: {}\n", k.api_reference);
    }
    if k.regional {
        let _ = writeln!(s, "Regional: the resource needs `region`.\n");
    }
    let _ = writeln!(s, "## Properties\n");
    let _ = writeln!(s, "| property | type | required | on change | notes |");
    let _ = writeln!(s, "|---|---|---|---|---|");
    for f in &k.properties {
        rows(&mut s, f, "", k.name_field);
    }
    let _ = writeln!(s, "\n## Outputs\n");
    let _ = writeln!(s, "| output | description |");
    let _ = writeln!(s, "|---|---|");
    for o in &k.outputs {
        let sens = if o.sensitive { " (sensitive)" } else { "" };
        let _ = writeln!(s, "| `{}` | {}{} |", o.name, o.doc, sens);
    }
    let _ = writeln!(s, "\n## Import\n\n`tandem import ADDRESS ID` where ID is {}.", k.import_id);
    s
}

fn rows(s: &mut String, f: &Field, prefix: &str, name_field: Option<&str>) {
    let path = format!("{prefix}{}", f.name);
    let required = if name_field == Some(f.name) && prefix.is_empty() {
        "defaults to the resource key"
    } else if f.required {
        "yes"
    } else {
        "no"
    };
    let change = if f.force_new { "replace" } else { "update in place" };
    let mut notes = f.doc.to_string();
    for c in &f.checks {
        let extra = match c {
            Check::Ipv4Cidr => "IPv4 CIDR".to_string(),
            Check::Range(a, b) => format!("{a}..={b}"),
            Check::Length(a, b) => format!("length {a}..={b}"),
            Check::E164 => "E.164 phone number".to_string(),
            Check::DistinctNetwork => {
                "must not overlap the networks it is routed to (on either cloud; overlaps with networks nothing connects are warned about)"
                    .to_string()
            }
            Check::DistinctAsn => "must differ from the ASNs of the other cloud".to_string(),
        };
        if notes.ends_with('.') {
            notes.push(' ');
        } else if !notes.is_empty() {
            notes.push_str("; ");
        }
        notes.push_str(&extra);
    }
    if f.sensitive {
        notes.push_str(" (sensitive: never printed)");
    }
    if !f.refers_to.is_empty() {
        notes.push_str(&format!(" (a reference to {})", f.refers_to.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" or ")));
    }
    if f.carries_traffic {
        notes.push_str(" (routes traffic: a reference here connects the two resources' networks for the overlap check)");
    }
    let _ = writeln!(s, "| `{path}` | {} | {required} | {change} | {notes} |", f.ty.describe());
    let nested = match &f.ty {
        Type::Object(fields) => Some((fields, format!("{path}."))),
        Type::List(inner) => match inner.as_ref() {
            Type::Object(fields) => Some((fields, format!("{path}[]."))),
            _ => None,
        },
        _ => None,
    };
    if let Some((fields, p)) = nested {
        for sub in fields {
            rows(s, sub, &p, None);
        }
    }
}
