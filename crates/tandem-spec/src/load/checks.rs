//! Checks: every property against its kind's schema (types, required fields, rules).

use super::*;
use crate::diag::Code;

impl Loader<'_> {
    /// Check a property mapping against its fields.
    pub(super) fn check_object(&mut self, e: &Expr, fields: &[Field], kind: &KindSchema, res: &str, path: &str, top: bool) {
        let ExprKind::Map(m) = &e.kind else { return };
        let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
        for (k, (ks, v)) in m {
            match fields.iter().find(|f| f.name == k) {
                None => {
                    let what = if path.is_empty() {
                        format!("the properties of `{res}` ({})", kind.type_name)
                    } else {
                        format!("`{path}` of `{res}`")
                    };
                    self.unknown_key(&what, k, *ks, &known);
                }
                Some(f) => {
                    let sub = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    self.check_value(v, f, &f.ty, kind, res, &sub);
                }
            }
        }
        for f in fields.iter().filter(|f| f.required) {
            if top && kind.name_field == Some(f.name) {
                continue;
            }
            if !m.contains_key(f.name) {
                let at = if path.is_empty() { format!("`{res}`") } else { format!("`{path}` of `{res}`") };
                self.err(
                    Code::SpecMissingField,
                    e.span,
                    format!("{at} is missing the required field `{}`", f.name),
                    &format!("add `{}`", f.name),
                )
                .help = Some(format!(
                    "`{}` is {}{}",
                    f.name,
                    f.ty.describe(),
                    if f.doc.is_empty() { String::new() } else { format!(": {}", f.doc) }
                ));
            }
        }
    }

    pub(super) fn check_value(&mut self, e: &Expr, f: &Field, ty: &Type, kind: &KindSchema, res: &str, path: &str) {
        // References are checked when they resolve; their text can't be judged now,
        // but where they point can.
        if let ExprKind::Interp(parts) = &e.kind {
            for p in parts {
                if let Part::Ref { resource, .. } = p {
                    if !f.refers_to.is_empty() {
                        self.typed_refs.push((resource.clone(), f.refers_to.clone(), path.to_string(), e.span, f.doc));
                    }
                    if f.carries_traffic {
                        self.links.push((res.to_string(), resource.clone()));
                    }
                }
            }
        }
        if matches!(e.kind, ExprKind::Interp(_)) {
            if matches!(ty, Type::List(_) | Type::Map(_) | Type::Object(_)) {
                if let ExprKind::Interp(parts) = &e.kind {
                    if parts.len() > 1 {
                        self.type_error(e, path, ty, "a string");
                    }
                }
            }
            return;
        }
        match (ty, &e.kind) {
            (Type::Any, _) => {}
            (_, ExprKind::Literal(Value::Null)) => {}
            (Type::Object(fields), ExprKind::Map(_)) => self.check_object(e, fields, kind, res, path, false),
            (Type::List(inner), ExprKind::List(items)) => {
                for (i, it) in items.iter().enumerate() {
                    self.check_value(it, f, inner, kind, res, &format!("{path}[{i}]"));
                }
            }
            (Type::List(inner), ExprKind::Literal(Value::Array(items))) => {
                for (i, it) in items.iter().enumerate() {
                    let sub = Expr::literal(it.clone(), e.span);
                    self.check_value(&sub, f, inner, kind, res, &format!("{path}[{i}]"));
                }
            }
            (Type::Map(inner), ExprKind::Map(m)) => {
                for (k, (_, v)) in m {
                    self.check_value(v, f, inner, kind, res, &format!("{path}.{k}"));
                }
            }
            (Type::Map(_) | Type::Object(_), ExprKind::Literal(Value::Object(_))) => {}
            (_, ExprKind::Literal(v)) if !matches!(ty, Type::List(_) | Type::Map(_) | Type::Object(_)) => {
                match tandem_schema::coerce(ty, v, path) {
                    Ok(cv) => self.run_checks(e, f, &cv, path, kind, res),
                    Err(_) => {
                        let found = describe_json(v);
                        self.type_error(e, path, ty, &found);
                    }
                }
            }
            (_, other) => {
                let found = match other {
                    ExprKind::List(_) => "a list".to_string(),
                    ExprKind::Map(_) => "a mapping".to_string(),
                    ExprKind::Literal(v) => describe_json(v),
                    ExprKind::Interp(_) => "a string".to_string(),
                };
                self.type_error(e, path, ty, &found);
            }
        }
    }

    pub(super) fn type_error(&mut self, e: &Expr, path: &str, ty: &Type, found: &str) {
        let mut help = None;
        if let (Type::Enum(values), ExprKind::Literal(Value::String(s))) = (ty, &e.kind) {
            if let Some(sug) = suggest(s, values.iter().copied()) {
                help = Some(format!("did you mean `{sug}`?"));
            }
        }
        let p = self.err(
            Code::SpecType,
            e.span,
            format!("`{path}` must be {}, found {found}", ty.describe()),
            &format!("expected {}", ty.describe()),
        );
        p.help = help;
    }

    pub(super) fn run_checks(&mut self, e: &Expr, f: &Field, v: &Value, path: &str, kind: &KindSchema, res: &str) {
        if let (true, Value::String(s)) = (f.checks.contains(&Check::DistinctNetwork), v) {
            if let Ok(net) = s.parse::<ipnet::Ipv4Net>() {
                self.networks.push((format!("{}.{path}", kind.type_name), net.trunc(), res.to_string(), e.span));
            }
        }
        if let (true, Some(asn)) = (f.checks.contains(&Check::DistinctAsn), v.as_i64()) {
            let cloud = kind.type_name.split('.').next().unwrap_or_default().to_string();
            self.asns.push((cloud, format!("{}.{path}", kind.type_name), asn, res.to_string(), e.span));
        }
        for c in &f.checks {
            let problem = match (c, v) {
                (Check::Ipv4Cidr, Value::String(s)) => match s.parse::<ipnet::Ipv4Net>() {
                    Ok(net) if net.network() == net.addr() => None,
                    Ok(net) => Some(format!("`{path}` = {s} has host bits set; the network is {}", net.trunc())),
                    Err(_) => Some(format!("`{path}` must be an IPv4 CIDR block such as 10.0.0.0/16, found {s:?}")),
                },
                (Check::Range(lo, hi), Value::Number(n)) => match n.as_i64() {
                    Some(i) if i >= *lo && i <= *hi => None,
                    _ => Some(format!("`{path}` must be between {lo} and {hi}, found {n}")),
                },
                (Check::E164, Value::String(s)) => {
                    let digits = s.strip_prefix('+').unwrap_or("");
                    let ok = (2..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
                    (!ok).then(|| format!("`{path}` must be an E.164 phone number such as +12065550100, found {s:?}"))
                }
                (Check::Length(lo, hi), Value::String(s)) => {
                    let n = s.chars().count();
                    (n < *lo || n > *hi).then(|| format!("`{path}` must be {lo} to {hi} characters long, found {n}"))
                }
                _ => None,
            };
            if let Some(msg) = problem {
                self.err(Code::SpecValue, e.span, msg, "invalid value");
            }
        }
    }
}
