//! Resources: the resource map, for_each expansion, each resource's keys, and `moved` blocks.

use super::*;
use crate::diag::Code;

impl Loader<'_> {
    /// One resource, or one per `for_each` key (addressed `key[each]`).
    pub(super) fn resources_of(&mut self, key: &str, kspan: Span, node: &Node, vars: &BTreeMap<String, Value>) -> Vec<Resource> {
        let Some((_, fnode)) = node.as_map().and_then(|m| m.get("for_each")) else {
            return self.resource(key, kspan, node, vars, None).into_iter().collect();
        };
        let fe = self.expr(fnode, vars, None);
        #[allow(clippy::type_complexity)]
        let pairs: Vec<(String, (Value, Option<Vec<Part>>))> = match &fe.kind {
            ExprKind::Literal(Value::Array(items)) => {
                let mut out = Vec::new();
                for it in items {
                    match it {
                        Value::String(s) if !s.is_empty() => out.push((s.clone(), (it.clone(), None))),
                        other => {
                            self.err(
                                Code::SpecForEach,
                                fnode.span,
                                format!("`for_each` keys are non-empty strings, found {}", describe_json(other)),
                                "expected strings",
                            );
                        }
                    }
                }
                out
            }
            ExprKind::Literal(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), (v.clone(), None))).collect(),
            ExprKind::Map(m) => {
                let mut out = Vec::new();
                for (k, (kspan, v)) in m {
                    // Keys may use variables (`"${var.primary_region}": ...`); they must be known now.
                    let key = match template::parse(k) {
                        Ok(pieces) => match self.bind(pieces, *kspan, vars, None) {
                            ExprKind::Literal(Value::String(s)) if !s.is_empty() => s,
                            _ => {
                                self.err(
                                    Code::SpecForEach,
                                    *kspan,
                                    "`for_each` keys must be known before anything is created (literals and variables)",
                                    "not known yet",
                                );
                                continue;
                            }
                        },
                        Err((_, msg)) => {
                            self.err(Code::SpecReference, *kspan, msg, "bad reference");
                            continue;
                        }
                    };
                    match &v.kind {
                        ExprKind::Literal(val) => out.push((key, (val.clone(), None))),
                        ExprKind::Interp(parts) => out.push((key, (Value::Null, Some(parts.clone())))),
                        _ => {
                            self.err(
                                Code::SpecForEach,
                                v.span,
                                "a `for_each` value is a scalar, a variable or one resource output",
                                "unsupported value",
                            );
                        }
                    }
                }
                out
            }
            ExprKind::List(items) => {
                let mut out = Vec::new();
                for it in items {
                    match &it.kind {
                        ExprKind::Literal(Value::String(s)) if !s.is_empty() => out.push((s.clone(), (Value::String(s.clone()), None))),
                        _ => {
                            self.err(
                                Code::SpecForEach,
                                it.span,
                                "`for_each` keys must be known strings (literals or variables)",
                                "expected a string",
                            );
                        }
                    }
                }
                out
            }
            _ => {
                self.err(
                    Code::SpecForEach,
                    fnode.span,
                    "`for_each` takes a list of strings or a mapping, known before anything is created",
                    "expected a list or mapping",
                )
                .help = Some(
                    "for example `for_each: [\"${var.primary_region}\", \"${var.secondary_region}\"]` or `for_each: ${var.regions}`".into(),
                );
                return Vec::new();
            }
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for (k, (v, value_parts)) in pairs {
            if !seen.insert(k.clone()) {
                self.err(Code::SpecForEach, fnode.span, format!("`for_each` lists `{k}` twice"), "duplicate key");
                continue;
            }
            let each = EachCtx { key: k, value: v, value_parts, region: None };
            if let Some(r) = self.resource(key, kspan, node, vars, Some(each)) {
                out.push(r);
            }
        }
        out
    }

    pub(super) fn resource(
        &mut self,
        key: &str,
        kspan: Span,
        node: &Node,
        vars: &BTreeMap<String, Value>,
        each: Option<EachCtx>,
    ) -> Option<Resource> {
        self.deferred = Some(Vec::new());
        let r = self.resource_inner(key, kspan, node, vars, each);
        let unreadable = self.deferred.take().unwrap_or_default();
        r.map(|mut r| {
            r.unreadable = unreadable;
            r
        })
    }

    pub(super) fn resource_inner(
        &mut self,
        key: &str,
        kspan: Span,
        node: &Node,
        vars: &BTreeMap<String, Value>,
        mut each: Option<EachCtx>,
    ) -> Option<Resource> {
        if !valid_name(key) {
            self.err(
                Code::SpecResourceName,
                kspan,
                format!("`{key}` is not a valid resource name"),
                "letters, digits, `_` and `-`, starting with a letter",
            );
        }
        let Some(m) = node.as_map() else {
            self.err(
                Code::SpecShape,
                node.span,
                format!("resource `{key}` must be a mapping with `type` and `properties`"),
                "expected a mapping",
            );
            return None;
        };
        for (k, (ks, _)) in m {
            if !RESOURCE_KEYS.contains(&k.as_str()) {
                self.unknown_key(&format!("resource `{key}`"), k, *ks, RESOURCE_KEYS);
            }
        }
        let Some((_, tnode)) = m.get("type") else {
            self.err(Code::SpecMissingType, kspan, format!("resource `{key}` has no `type`"), "needs `type:`").help =
                Some(format!("known types: {}", self.kind_names().join(", ")));
            return None;
        };
        let Some(type_name) = tnode.as_str() else {
            self.err(Code::SpecType, tnode.span, "`type` must be a string such as `aws.ec2.vpc`", "expected a string");
            return None;
        };
        let kind = self.kinds.iter().copied().find(|k| k.type_name == type_name);
        let Some(kind) = kind else {
            let names = self.kind_names();
            let help = match suggest(type_name, names.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known types: {}", names.join(", ")),
            };
            self.err(Code::SpecUnknownType, tnode.span, format!("unknown resource type `{type_name}`"), "not a known type").help =
                Some(help);
            return None;
        };
        let region = match m.get("region") {
            Some((_, rn)) => {
                let e = self.expr(rn, vars, each.as_ref());
                match &e.kind {
                    ExprKind::Literal(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    ExprKind::Interp(_) => {
                        self.err(
                            Code::SpecRegion,
                            rn.span,
                            "`region` must be known before anything is created",
                            "refers to a resource output",
                        )
                        .help = Some("use a literal region or a variable (`${var.primary_region}`)".into());
                        None
                    }
                    _ => {
                        self.err(Code::SpecRegion, rn.span, "`region` must be a non-empty string", "expected a region name");
                        None
                    }
                }
            }
            None => None,
        };
        if kind.regional && region.is_none() && !m.contains_key("region") {
            self.err(Code::SpecRegion, kspan, format!("resource `{key}` ({type_name}) needs a `region`"), "no region").help =
                Some("add `region: ${var.primary_region}` or a region name".into());
        }
        if let Some(e) = each.as_mut() {
            e.region = region.clone();
        }
        let properties = match m.get("properties") {
            Some((_, pn)) => self.expr(pn, vars, each.as_ref()),
            None => Expr { span: kspan, kind: ExprKind::Map(IndexMap::new()) },
        };
        let sensitive: BTreeSet<String> = match m.get("properties").and_then(|(_, pn)| pn.as_map()) {
            Some(pm) => pm.iter().filter(|(_, (_, v))| self.mentions_sensitive(v)).map(|(k, _)| k.clone()).collect(),
            None => Default::default(),
        };
        // tandem redacts these in its own output, but a tag or a name is
        // shown by the cloud to anyone who may list the resource.
        if let (Some(kind), Some(pm)) =
            (self.kinds.iter().copied().find(|k| k.type_name == type_name), m.get("properties").and_then(|(_, pn)| pn.as_map()))
        {
            for field in &sensitive {
                if kind.field(field).is_some_and(|f| !f.sensitive) {
                    let span = pm.get(field).map(|(ks, _)| *ks).unwrap_or(kspan);
                    self.warnings.push(
                        Problem::new(Code::SpecSensitiveInPlainField, format!("`{field}` of `{key}` takes a sensitive variable, but {type_name} does not keep `{field}` secret"))
                            .at(&self.src, span, "visible in the cloud")
                            .help("tandem redacts it in plans, state and output; the cloud shows it to anyone who may read the resource. Keep secrets out of tags and names"),
                    );
                }
            }
        }
        if !matches!(properties.kind, ExprKind::Map(_)) {
            self.err(Code::SpecShape, properties.span, "`properties` must be a mapping", "expected a mapping");
        } else {
            let at = match &each {
                Some(e) => format!("{key}[{}]", e.key),
                None => key.to_string(),
            };
            self.check_object(&properties, &kind.properties, kind, &at, "", true);
        }
        let mut depends_on = Vec::new();
        if let Some((_, dn)) = m.get("depends_on") {
            match &dn.kind {
                NodeKind::Seq(items) => {
                    for it in items {
                        match it.as_str() {
                            Some(s) => depends_on.push((s.to_string(), it.span)),
                            None => {
                                self.err(Code::SpecType, it.span, "`depends_on` lists resource names", "expected a name");
                            }
                        }
                    }
                }
                _ => {
                    self.err(Code::SpecType, dn.span, "`depends_on` must be a list of resource names", "expected a list");
                }
            }
        }
        // A stage names a slice of the stack that can be applied on its own
        // (`--stage`), as the seed's guide deploys it step by step.
        let stage = match m.get("stage") {
            None => None,
            Some((_, sn)) => match sn.as_str() {
                Some(s) if is_stage_name(s) => Some(s.to_string()),
                _ => {
                    self.err(
                        Code::SpecStage,
                        sn.span,
                        "`stage` must be a name of letters, digits, `_` or `-`",
                        "expected a name such as aws_connect",
                    );
                    None
                }
            },
        };
        let mut prevent_destroy = false;
        if let Some((_, ln)) = m.get("lifecycle") {
            match ln.as_map() {
                Some(lm) => {
                    for (k, (ks, v)) in lm {
                        if k == "prevent_destroy" {
                            prevent_destroy = self.bool(v);
                        } else {
                            self.unknown_key("lifecycle", k, *ks, &["prevent_destroy"]);
                        }
                    }
                }
                None => {
                    self.err(Code::SpecType, ln.span, "`lifecycle` must be a mapping", "expected a mapping");
                }
            }
        }
        let address = match &each {
            Some(e) => format!("{key}[{}]", e.key),
            None => key.to_string(),
        };
        Some(Resource {
            address,
            base: key.to_string(),
            each_key: each.map(|e| e.key),
            type_name: type_name.to_string(),
            type_span: tnode.span,
            span: kspan,
            region,
            properties,
            depends_on,
            prevent_destroy,
            stage,
            sensitive,
            unreadable: Vec::new(),
        })
    }

    /// Whether a value refers to a `sensitive: true` variable anywhere inside.
    pub(super) fn mentions_sensitive(&self, node: &Node) -> bool {
        if self.sensitive_vars.is_empty() {
            return false;
        }
        match &node.kind {
            NodeKind::Scalar(Scalar::Str(s)) => template::parse(s)
                .is_ok_and(|pieces| pieces.iter().any(|p| matches!(p, Piece::Ref(RefTarget::Var(v)) if self.sensitive_vars.contains(v)))),
            NodeKind::Scalar(_) => false,
            NodeKind::Seq(items) => items.iter().any(|n| self.mentions_sensitive(n)),
            NodeKind::Map(m) => m.values().any(|(_, n)| self.mentions_sensitive(n)),
        }
    }

    /// `moved:` entries, one mapping or a list of them: `from` is no longer
    /// declared, `to` is.
    pub(super) fn moved(&mut self, node: &Node, resources: &IndexMap<String, Resource>) -> Vec<Moved> {
        let items: Vec<&Node> = match &node.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            NodeKind::Map(_) => vec![node],
            NodeKind::Scalar(Scalar::Null) => vec![],
            _ => {
                self.err(
                    Code::SpecMoved,
                    node.span,
                    "`moved` is a mapping `{ from: OLD, to: NEW }` or a list of them",
                    "expected a mapping or a list",
                );
                return vec![];
            }
        };
        let declared = |a: &str| resources.contains_key(a) || resources.values().any(|r| r.base == a);
        let mut out: Vec<Moved> = Vec::new();
        for it in items {
            let Some(m) = it.as_map() else {
                self.err(Code::SpecMoved, it.span, "a move is a mapping `{ from: OLD, to: NEW }`", "expected a mapping");
                continue;
            };
            for (k, (ks, _)) in m {
                if k != "from" && k != "to" {
                    self.unknown_key("a move", k, *ks, &["from", "to"]);
                }
            }
            let mut get = |key: &str| -> Option<(String, Span)> {
                match m.get(key) {
                    Some((_, v)) => match v.as_str() {
                        Some(s) if valid_address(s) => Some((s.to_string(), v.span)),
                        _ => {
                            self.err(
                                Code::SpecMoved,
                                v.span,
                                format!("`{key}` is a resource address such as `vpc` or `queue[us-east-1]`"),
                                "not an address",
                            );
                            None
                        }
                    },
                    None => {
                        self.err(Code::SpecMoved, it.span, format!("this move has no `{key}`"), &format!("add `{key}:`"));
                        None
                    }
                }
            };
            let (Some((from, fspan)), Some((to, tspan))) = (get("from"), get("to")) else { continue };
            if from == to {
                self.err(Code::SpecMoved, tspan, "a move from an address to itself", "same as `from`");
                continue;
            }
            if declared(&from) {
                self.err(
                    Code::SpecMoved,
                    fspan,
                    format!("`{from}` is still declared under `resources`, so it cannot have moved"),
                    "still declared",
                )
                .help = Some(format!("rename the resource itself to `{to}` and keep this move, or drop the move"));
                continue;
            }
            if !declared(&to) {
                let names: Vec<&str> = resources.values().map(|r| r.base.as_str()).collect();
                let p = self.err(Code::SpecMoved, tspan, format!("`{to}` is not a resource of this spec"), "not declared");
                p.help = Some(match suggest(&to, names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`to` names the resource's new key under `resources`".into(),
                });
                continue;
            }
            if let Some(prev) = out.iter().find(|m| m.from == from) {
                let other = prev.to.clone();
                self.err(Code::SpecMoved, fspan, format!("`{from}` already moved to `{other}`"), "moved twice");
                continue;
            }
            out.push(Moved { from, to, span: it.span });
        }
        out
    }
}
