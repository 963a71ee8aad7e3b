//! `${...}` references inside strings.
//!
//! `${var.NAME}` is a variable (substituted when the spec loads);
//! `${RESOURCE.OUTPUT}` is another resource's output (resolved when that
//! resource exists, and an edge in the graph); `${RESOURCE[KEY].OUTPUT}`
//! names one instance of a `for_each` resource, where KEY is a literal or
//! `each.key` / `each.value`; `${each.key}`, `${each.value}` and
//! `${each.region}` are the current `for_each` instance's;
//! `${file("PATH")}` is the text of a file, `${path("PATH")}` its path and
//! `${filebase64sha256("PATH")}` the base64 SHA-256 of its bytes (what
//! Lambda reports as CodeSha256), PATH relative to the spec's directory
//! (read when the spec loads). `$${` writes a literal `${`.

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefTarget {
    Var(String),
    Resource {
        name: String,
        index: Option<Index>,
        attr: String,
    },
    Each(String),
    /// `file("PATH")`: the file's text.
    File(FileArg),
    /// `path("PATH")`: the file's path, relative to the working directory.
    Path(FileArg),
    /// `filebase64sha256("PATH")`: base64 of the SHA-256 of the file's bytes.
    FileSha256(FileArg),
}

/// The argument of a file function: a quoted path, or `var.NAME` holding one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileArg {
    Literal(String),
    Var(String),
}

/// Which instance of a `for_each` resource a reference means.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Index {
    Literal(String),
    /// `each.key` or `each.value` of the instance the reference is written in.
    Each(String),
    /// `var.NAME`: the instance whose key is that variable's value.
    Var(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Lit(String),
    Ref(RefTarget),
}

/// Split a string into literal text and references. Errors give the byte
/// offset in the string and what is wrong.
pub fn parse(s: &str) -> Result<Vec<Piece>, (usize, String)> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    let mut offset = 0;
    while let Some(i) = rest.find('$') {
        let after = &rest[i..];
        if after.starts_with("$${") {
            lit.push_str(&rest[..i]);
            lit.push_str("${");
            rest = &rest[i + 3..];
            offset += i + 3;
            continue;
        }
        if !after.starts_with("${") {
            lit.push_str(&rest[..=i]);
            rest = &rest[i + 1..];
            offset += i + 1;
            continue;
        }
        lit.push_str(&rest[..i]);
        let start = offset + i;
        let body_and_rest = &rest[i + 2..];
        let Some(end) = body_and_rest.find('}') else {
            return Err((start, "unclosed `${`: a reference ends with `}`".into()));
        };
        let body = body_and_rest[..end].trim();
        let target = parse_ref(body).map_err(|m| (start, m))?;
        if !lit.is_empty() {
            out.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        out.push(Piece::Ref(target));
        let consumed = i + 2 + end + 1;
        rest = &rest[consumed..];
        offset += consumed;
    }
    lit.push_str(rest);
    if !lit.is_empty() || out.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_ref(body: &str) -> Result<RefTarget, String> {
    for (function, make) in
        [("file", RefTarget::File as fn(FileArg) -> RefTarget), ("path", RefTarget::Path), ("filebase64sha256", RefTarget::FileSha256)]
    {
        if let Some(arg) = body.strip_prefix(function).and_then(|r| r.strip_prefix('(')).and_then(|r| r.strip_suffix(')')) {
            let arg = arg.trim();
            let literal =
                arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')).filter(|p| !p.is_empty()).map(|p| FileArg::Literal(p.to_string()));
            let var = arg.strip_prefix("var.").filter(|v| is_ident(v)).map(|v| FileArg::Var(v.to_string()));
            return literal.or(var).map(make).ok_or_else(|| format!("`${{{body}}}`: write `${{{function}(\"PATH\")}}` or `${{{function}(var.NAME)}}`, PATH relative to the spec's directory"));
        }
    }
    let expected = "expected `${var.NAME}`, `${RESOURCE.OUTPUT}`, `${RESOURCE[KEY].OUTPUT}` or `${each.key}`";
    let bad = || format!("`${{{body}}}` is not a reference: {expected}");
    // `name[index].attr`: the index may itself contain dots (`each.key`, a region name never does).
    if let Some(open) = body.find('[') {
        let close = body[open..].find(']').map(|c| open + c).ok_or_else(bad)?;
        let name = &body[..open];
        let index = body[open + 1..close].trim().trim_matches('"');
        let attr = body[close + 1..].strip_prefix('.').ok_or_else(bad)?;
        if !is_ident(name) || !is_ident(attr) || index.is_empty() || name == "var" || name == "each" {
            return Err(bad());
        }
        let index = match (index.strip_prefix("each."), index.strip_prefix("var.")) {
            (Some(f @ ("key" | "value")), _) => Index::Each(f.to_string()),
            (Some(_), _) => return Err(format!("`${{{body}}}`: an index may be `each.key`, `each.value`, `var.NAME` or a literal key")),
            (None, Some(v)) if is_ident(v) => Index::Var(v.to_string()),
            _ => Index::Literal(index.to_string()),
        };
        return Ok(RefTarget::Resource { name: name.to_string(), index: Some(index), attr: attr.to_string() });
    }
    let Some((head, tail)) = body.split_once('.') else {
        return Err(bad());
    };
    if !is_ident(head) || !is_ident(tail) {
        return Err(bad());
    }
    Ok(match head {
        "var" => RefTarget::Var(tail.to_string()),
        "each" => match tail {
            "key" | "value" | "region" => RefTarget::Each(tail.to_string()),
            _ => return Err(format!("`${{{body}}}`: `each` has `key`, `value` and `region`")),
        },
        _ => RefTarget::Resource { name: head.to_string(), index: None, attr: tail.to_string() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, attr: &str) -> Piece {
        Piece::Ref(RefTarget::Resource { name: name.into(), index: None, attr: attr.into() })
    }

    #[test]
    fn file_function() {
        assert_eq!(
            parse("${file(\"flows/inbound.json\")}").unwrap(),
            vec![Piece::Ref(RefTarget::File(FileArg::Literal("flows/inbound.json".into())))]
        );
        assert_eq!(parse("${path(var.zip)}").unwrap(), vec![Piece::Ref(RefTarget::Path(FileArg::Var("zip".into())))]);
        assert!(parse("${file(flows/inbound.json)}").unwrap_err().1.contains("file(\"PATH\")"));
    }

    #[test]
    fn splits_text_and_references() {
        assert_eq!(
            parse("arn:${vpc.id}/x-${var.env}").unwrap(),
            vec![Piece::Lit("arn:".into()), r("vpc", "id"), Piece::Lit("/x-".into()), Piece::Ref(RefTarget::Var("env".into()))]
        );
        assert_eq!(parse("${ a.b }").unwrap(), vec![r("a", "b")]);
        assert_eq!(parse("plain").unwrap(), vec![Piece::Lit("plain".into())]);
        assert_eq!(parse("").unwrap(), vec![Piece::Lit("".into())]);
    }

    #[test]
    fn indexed_and_each_references() {
        assert_eq!(
            parse("${queue[us-west-2].arn}").unwrap(),
            vec![Piece::Ref(RefTarget::Resource {
                name: "queue".into(),
                index: Some(Index::Literal("us-west-2".into())),
                attr: "arn".into()
            })]
        );
        assert_eq!(
            parse("${instance[each.key].id}").unwrap(),
            vec![Piece::Ref(RefTarget::Resource { name: "instance".into(), index: Some(Index::Each("key".into())), attr: "id".into() })]
        );
        assert_eq!(parse("${each.region}").unwrap(), vec![Piece::Ref(RefTarget::Each("region".into()))]);
        assert!(parse("${each.nope}").is_err());
        assert!(parse("${q[each.nope].id}").is_err());
        assert!(parse("${q[x]}").is_err());
    }

    #[test]
    fn escapes_and_lone_dollars() {
        assert_eq!(parse("$${x} costs $5").unwrap(), vec![Piece::Lit("${x} costs $5".into())]);
    }

    #[test]
    fn bad_references_name_the_offset() {
        assert_eq!(parse("ab${vpc").unwrap_err().0, 2);
        assert!(parse("${vpc}").unwrap_err().1.contains("RESOURCE.OUTPUT"));
        assert!(parse("${a.b.c}").is_err());
        assert!(parse("${1a.b}").is_err());
    }
}
