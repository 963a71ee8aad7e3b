//! `tandem fmt`: the canonical layout of a spec, keeping every comment and
//! every value as written. Block mappings and lists indent by two spaces
//! per level (a list under a key one level in), trailing blanks go, runs of
//! blank lines become one, the file ends with one newline. Continuation
//! lines (block scalars such as an inline flow, long flow mappings) move
//! with the line that owns them, so their content is untouched; a comment
//! takes the indentation of the line it precedes.
//!
//! The result is parsed again and must hold the same data as the input:
//! formatting can never change what a spec means.

use crate::yaml::{self, Node, NodeKind, YamlError};
use std::collections::BTreeMap;

/// `text` in the canonical layout.
pub fn format(text: &str) -> Result<String, YamlError> {
    let root = yaml::parse(text)?;
    let starts = line_starts(text);
    let mut want: BTreeMap<usize, usize> = BTreeMap::new();
    walk(&root, text, &starts, 0, &mut want);
    let out = relayout(text, &want);
    // Same data, or nothing: never write a file that means something else.
    let again = yaml::parse(&out).map_err(|e| YamlError {
        span: yaml::Span::new(0, 0),
        message: format!("tandem fmt made invalid YAML ({}); the file is left as it is, please report this", e.message),
    })?;
    if !same(&root, &again) {
        return Err(YamlError {
            span: yaml::Span::new(0, 0),
            message: "tandem fmt would change the data; the file is left as it is, please report this".into(),
        });
    }
    Ok(out)
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

fn line_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&s| s <= offset).saturating_sub(1)
}

/// Whether only blanks (and, for a list item, the `- ` of its own or
/// enclosing items) come before `offset` on its line.
fn first_on_line(text: &str, starts: &[usize], offset: usize) -> bool {
    let line = line_of(starts, offset);
    text[starts[line]..offset].chars().all(|c| c == ' ')
}

fn is_flow(text: &str, n: &Node) -> bool {
    matches!(text.as_bytes().get(n.span.start), Some(b'{' | b'['))
}

/// Records the indentation each line that starts a key or a list item
/// should have; the first visit of a line wins (merged anchors revisit).
fn walk(n: &Node, text: &str, starts: &[usize], indent: usize, want: &mut BTreeMap<usize, usize>) {
    if is_flow(text, n) {
        return;
    }
    match &n.kind {
        NodeKind::Map(entries) => {
            // A mapping's own keys come first and in order; keys merged from
            // an anchor (`<<: *base`) come after them but sit earlier in the text.
            let own_from = entries.values().next().map(|(k, _)| k.start).unwrap_or(0);
            for (kspan, value) in entries.values() {
                if kspan.start < own_from || kspan.start >= text.len() {
                    continue;
                }
                if first_on_line(text, starts, kspan.start) {
                    want.entry(line_of(starts, kspan.start)).or_insert(indent);
                }
                child(value, text, starts, indent, want);
            }
        }
        NodeKind::Seq(items) => {
            for item in items {
                if item.span.start >= text.len() {
                    continue;
                }
                let line = line_of(starts, item.span.start);
                // The item's `- ` is on its line, before it.
                if text[starts[line]..item.span.start].trim_start().starts_with('-') {
                    want.entry(line).or_insert(indent);
                }
                // A mapping that starts on the dash line: its other keys line up after `- `.
                walk(item, text, starts, indent + 2, want);
            }
        }
        NodeKind::Scalar(_) => {}
    }
}

/// A value's block content indents one level under its key.
fn child(value: &Node, text: &str, starts: &[usize], indent: usize, want: &mut BTreeMap<usize, usize>) {
    match &value.kind {
        NodeKind::Map(_) | NodeKind::Seq(_) => walk(value, text, starts, indent + 2, want),
        NodeKind::Scalar(_) => {}
    }
}

fn relayout(text: &str, want: &BTreeMap<usize, usize>) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    // The shift of the last line that starts a node: continuation lines move with it.
    let mut delta: isize = 0;
    let mut blank_run = 0;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_end_matches([' ', '\r']);
        let current = line.len() - line.trim_start_matches(' ').len();
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run == 1 && !out.is_empty() {
                out.push(String::new());
            }
            continue;
        }
        blank_run = 0;
        let body = &line[current..];
        let new = if let Some(&w) = want.get(&i) {
            delta = w as isize - current as isize;
            w
        } else if body.starts_with('#') {
            // A comment sits with what follows it.
            match (i + 1..lines.len())
                .find(|j| want.contains_key(j) || !lines[*j].trim().is_empty() && !lines[*j].trim_start().starts_with('#'))
            {
                Some(j) if want.contains_key(&j) => want[&j],
                _ => (current as isize + delta).max(0) as usize,
            }
        } else {
            (current as isize + delta).max(0) as usize
        };
        out.push(format!("{}{body}", " ".repeat(new)));
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// The same data, wherever it sits.
fn same(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (NodeKind::Scalar(x), NodeKind::Scalar(y)) => x == y,
        (NodeKind::Seq(x), NodeKind::Seq(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (NodeKind::Map(x), NodeKind::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k1, (_, v1)), (k2, (_, v2)))| k1 == k2 && same(v1, v2))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_by_two_and_keeps_comments_and_values() {
        let input = "version: 1   \nname: x\n\n\n# the resources\nresources:\n    vpc:   \n        type: aws.ec2.vpc\n        # where\n        region: us-east-1\n        properties:\n            tags: { Name: a,\n                    Team: b }\n            list:\n            - a\n            -   b\n            - name: n\n              value: v\n";
        let out = format(input).unwrap();
        assert_eq!(
            out,
            "version: 1\nname: x\n\n# the resources\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    # where\n    region: us-east-1\n    properties:\n      tags: { Name: a,\n              Team: b }\n      list:\n        - a\n        -   b\n        - name: n\n          value: v\n"
        );
        assert_eq!(format(&out).unwrap(), out, "formatting is idempotent");
    }

    #[test]
    fn block_scalars_keep_their_content() {
        let input =
            "resources:\n    f:\n        content: |\n            {\n              \"Version\": \"x\"\n            }\n        other: 1\n";
        let out = format(input).unwrap();
        // The block keeps its own indentation relative to its key.
        assert_eq!(out, "resources:\n  f:\n    content: |\n        {\n          \"Version\": \"x\"\n        }\n    other: 1\n");
    }
}
