//! Binding: property values to expressions; `${...}` references, variables, each.key/each.value and file functions.

use super::*;
use crate::diag::Code;

pub(super) fn push_lit(parts: &mut Vec<Part>, l: String) {
    if let Some(Part::Lit(prev)) = parts.last_mut() {
        prev.push_str(&l);
    } else {
        parts.push(Part::Lit(l));
    }
}

impl Loader<'_> {
    /// Substitute variables; keep resource references for later.
    pub(super) fn expr(&mut self, node: &Node, vars: &BTreeMap<String, Value>, each: Option<&EachCtx>) -> Expr {
        let kind = match &node.kind {
            NodeKind::Scalar(Scalar::Str(s)) => match template::parse(s) {
                Err((_, msg)) => {
                    self.err(Code::SpecReference, node.span, msg, "bad reference");
                    ExprKind::Literal(Value::String(s.clone()))
                }
                Ok(pieces) => self.bind(pieces, node.span, vars, each),
            },
            NodeKind::Scalar(_) => ExprKind::Literal(node_to_json(node)),
            NodeKind::Seq(items) => ExprKind::List(items.iter().map(|n| self.expr(n, vars, each)).collect()),
            NodeKind::Map(m) => ExprKind::Map(m.iter().map(|(k, (ks, v))| (k.clone(), (*ks, self.expr(v, vars, each)))).collect()),
        };
        Expr { span: node.span, kind }
    }

    pub(super) fn each_value(&mut self, field: &str, span: Span, each: Option<&EachCtx>) -> Value {
        let Some(e) = each else {
            self.err(
                Code::SpecEach,
                span,
                format!("`${{each.{field}}}` is only meaningful in a resource with `for_each`"),
                "no for_each here",
            );
            return Value::Null;
        };
        match field {
            "key" => Value::String(e.key.clone()),
            "value" => e.value.clone(),
            _ => match &e.region {
                Some(r) => Value::String(r.clone()),
                None => {
                    self.err(
                        Code::SpecEach,
                        span,
                        "`${each.region}` needs a `region` on the resource (and cannot be used inside `region`)",
                        "no region",
                    );
                    Value::Null
                }
            },
        }
    }

    /// `${file("PATH")}`, `${path("PATH")}`, `${filebase64sha256("PATH")}`:
    /// PATH is relative to the spec file's directory, so a spec and the files
    /// it names move together.
    pub(super) fn file_function(&mut self, r: &RefTarget, span: Span, vars: &BTreeMap<String, Value>) -> String {
        let (RefTarget::File(arg) | RefTarget::Path(arg) | RefTarget::FileSha256(arg)) = r else { return String::new() };
        let path = match arg {
            FileArg::Literal(p) => p.clone(),
            FileArg::Var(name) => match self.var(name, span, vars) {
                Value::String(p) => p,
                Value::Null => return String::new(),
                other => {
                    self.err(Code::SpecFile, span, format!("`var.{name}` is {other}, not a path"), "not a path");
                    return String::new();
                }
            },
        };
        let path = path.as_str();
        let dir = std::path::Path::new(&self.src.name).parent().unwrap_or(std::path::Path::new(""));
        let full = dir.join(path);
        // Regular files only, of a size a spec can hold (a Lambda zip for
        // direct upload is at most 50 MB): not a device, a FIFO or a directory.
        const MAX_FILE: u64 = 64 << 20;
        let kind = std::fs::metadata(&full).and_then(|m| {
            if !m.is_file() {
                Err(std::io::Error::other("not a regular file"))
            } else if m.len() > MAX_FILE {
                Err(std::io::Error::other(format!("{} bytes, more than the {} MiB a spec may read", m.len(), MAX_FILE >> 20)))
            } else {
                Ok(())
            }
        });
        let read = kind.and_then(|()| match r {
            RefTarget::File(_) => std::fs::read_to_string(&full),
            RefTarget::Path(_) => std::fs::metadata(&full).map(|_| full.display().to_string()),
            _ => match self.digests.get(&full) {
                Some(d) => Ok(d.clone()),
                None => std::fs::read(&full).map(|bytes| {
                    use base64::Engine;
                    use sha2::Digest;
                    let d = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
                    self.digests.insert(full.clone(), d.clone());
                    d
                }),
            },
        });
        match read {
            Ok(text) => text,
            Err(e) => {
                let message = format!("cannot read {} (`{path}`, relative to the spec's directory): {e}", full.display());
                match self.deferred.as_mut() {
                    Some(d) => d.push(
                        Problem::new(Code::SpecFile, message)
                            .at(&self.src, span, "unreadable file")
                            .help("make the file (for a Lambda package: scripts/build-lambda), or leave this resource out with --target/--stage; until then it cannot be planned or applied"),
                    ),
                    None => {
                        self.err(Code::SpecFile, span, message, "unreadable file");
                    }
                }
                String::new()
            }
        }
    }

    pub(super) fn bind(&mut self, pieces: Vec<Piece>, span: Span, vars: &BTreeMap<String, Value>, each: Option<&EachCtx>) -> ExprKind {
        // A string that is exactly one variable keeps the variable's type.
        if let [Piece::Ref(RefTarget::Var(name))] = pieces.as_slice() {
            return ExprKind::Literal(self.var(name, span, vars));
        }
        if let [Piece::Ref(r @ (RefTarget::File(_) | RefTarget::Path(_) | RefTarget::FileSha256(_)))] = pieces.as_slice() {
            return ExprKind::Literal(Value::String(self.file_function(r, span, vars)));
        }
        if let [Piece::Ref(RefTarget::Each(field))] = pieces.as_slice() {
            if let (Some(parts), "value") = (each.and_then(|e| e.value_parts.as_ref()), field.as_str()) {
                return ExprKind::Interp(parts.clone());
            }
            return ExprKind::Literal(self.each_value(field, span, each));
        }
        let mut parts: Vec<Part> = Vec::new();
        for p in pieces {
            match p {
                Piece::Lit(l) => push_lit(&mut parts, l),
                Piece::Ref(RefTarget::Var(name)) => {
                    let v = self.var(&name, span, vars);
                    let text = match v {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    push_lit(&mut parts, text);
                }
                Piece::Ref(r @ (RefTarget::File(_) | RefTarget::Path(_) | RefTarget::FileSha256(_))) => {
                    let text = self.file_function(&r, span, vars);
                    push_lit(&mut parts, text);
                }
                Piece::Ref(RefTarget::Each(field)) => {
                    if let (Some(vp), "value") = (each.and_then(|e| e.value_parts.as_ref()), field.as_str()) {
                        for p in vp {
                            match p {
                                Part::Lit(l) => push_lit(&mut parts, l.clone()),
                                r => parts.push(r.clone()),
                            }
                        }
                        continue;
                    }
                    let text = match self.each_value(&field, span, each) {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    push_lit(&mut parts, text);
                }
                Piece::Ref(RefTarget::Resource { name, index, attr }) => {
                    let resource = match index {
                        None => name,
                        Some(Index::Literal(k)) => format!("{name}[{k}]"),
                        Some(Index::Var(v)) => match self.var(&v, span, vars) {
                            Value::String(k) => format!("{name}[{k}]"),
                            _ => {
                                self.err(
                                    Code::SpecEach,
                                    span,
                                    format!("`var.{v}` is not a string, so it cannot pick an instance"),
                                    "not a key",
                                );
                                name
                            }
                        },
                        Some(Index::Each(field)) => match self.each_value(&field, span, each) {
                            Value::String(k) => format!("{name}[{k}]"),
                            _ => {
                                self.err(
                                    Code::SpecEach,
                                    span,
                                    format!("`each.{field}` is not a string here, so it cannot pick an instance"),
                                    "not a key",
                                );
                                name
                            }
                        },
                    };
                    parts.push(Part::Ref { resource, attr });
                }
            }
        }
        match parts.as_slice() {
            [] => ExprKind::Literal(Value::String(String::new())),
            [Part::Lit(s)] => ExprKind::Literal(Value::String(s.clone())),
            _ => ExprKind::Interp(parts),
        }
    }

    pub(super) fn var(&mut self, name: &str, span: Span, vars: &BTreeMap<String, Value>) -> Value {
        match vars.get(name) {
            Some(v) => v.clone(),
            None => {
                let help = match suggest(name, vars.keys().map(String::as_str)) {
                    Some(s) => format!("did you mean `${{var.{s}}}`?"),
                    None => "declare it under `variables:`".to_string(),
                };
                self.err(Code::SpecUnknownVariable, span, format!("unknown variable `{name}`"), "not declared").help = Some(help);
                Value::Null
            }
        }
    }
}
