//! A YAML tree that remembers where every node came from.
//!
//! serde-based YAML loaders drop positions; errors must name file, line and
//! column, so the spec is read from the parser's event stream into [`Node`]s
//! that carry their byte span.

use indexmap::IndexMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub len: usize,
}

impl Span {
    pub fn new(start: usize, len: usize) -> Self {
        Span { start, len }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.len).into()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Keys keep their own spans so "unknown field" points at the key.
    Map(IndexMap<String, (Span, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

impl Node {
    pub fn as_map(&self) -> Option<&IndexMap<String, (Span, Node)>> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Scalar(Scalar::Null))
    }
    /// "a string", "a mapping": what this node is, for error messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(Scalar::Null) => "nothing (null)",
            NodeKind::Scalar(Scalar::Bool(_)) => "a boolean",
            NodeKind::Scalar(Scalar::Int(_)) => "an integer",
            NodeKind::Scalar(Scalar::Float(_)) => "a number",
            NodeKind::Scalar(Scalar::Str(_)) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub span: Span,
    pub message: String,
}

/// How deep collections may nest: far beyond any spec, and shallow enough
/// that walking (and dropping) the tree can never overflow the stack.
pub const MAX_DEPTH: usize = 64;

/// How many values aliases may add to a document once expanded: a spec has
/// a few thousand; "billion laughs" (aliases of aliases) would need gigabytes.
/// Values written out in the file are not counted: they cost their own bytes
/// of input, so a legitimately large file (100,000 resources) is not refused.
pub const MAX_NODES: usize = 1_000_000;

/// Parse one YAML document. An empty document is an empty mapping.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let mut b = Builder {
        stack: Vec::new(),
        root: None,
        error: None,
        anchors: Default::default(),
        sizes: Default::default(),
        heights: Default::default(),
        nodes: 0,
        skip: 0,
    };
    let mut parser = Parser::new_from_str(text);
    // Event by event: the parser's own `load` recurses once per nesting
    // level and overflows the stack on a hostile document.
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| {
            let m = e.marker();
            YamlError { span: Span::new(m.index().min(text.len()), 0), message: e.info().to_string() }
        })?;
        match ev {
            Event::StreamEnd => break,
            // One document, as before: the rest of a stream is not read.
            Event::DocumentEnd => {
                b.on_event(ev, mark);
                break;
            }
            ev => b.on_event(ev, mark),
        }
    }
    if let Some(e) = b.error {
        return Err(e);
    }
    Ok(b.root.unwrap_or(Node { span: Span::default(), kind: NodeKind::Map(IndexMap::new()) }))
}

enum Frame {
    Seq { start: usize, anchor: usize, items: Vec<Node> },
    Map { start: usize, anchor: usize, entries: IndexMap<String, (Span, Node)>, key: Option<(String, Span)> },
}

struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    error: Option<YamlError>,
    anchors: std::collections::HashMap<usize, Node>,
    /// Nodes in each anchored value: what an alias of it adds.
    sizes: std::collections::HashMap<usize, usize>,
    /// Nesting levels of each anchored value: what an alias of it adds to
    /// the depth where it is used.
    heights: std::collections::HashMap<usize, usize>,
    /// Nodes added so far by expanding aliases.
    nodes: usize,
    /// Nesting levels being skipped past the depth budget.
    skip: usize,
}

/// Levels of lists and mappings in a node (0 for a scalar).
fn height(n: &Node) -> usize {
    match &n.kind {
        NodeKind::Scalar(_) => 0,
        NodeKind::Seq(items) => 1 + items.iter().map(height).max().unwrap_or(0),
        NodeKind::Map(m) => 1 + m.values().map(|(_, v)| height(v)).max().unwrap_or(0),
    }
}

fn size(n: &Node) -> usize {
    1 + match &n.kind {
        NodeKind::Scalar(_) => 0,
        NodeKind::Seq(items) => items.iter().map(size).sum(),
        NodeKind::Map(m) => m.values().map(|(_, v)| 1 + size(v)).sum(),
    }
}

impl Builder {
    fn fail(&mut self, at: usize, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError { span: Span::new(at, 1), message });
        }
    }

    fn push_node(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    // A key: only scalar keys are meaningful in a spec.
                    match &node.kind {
                        NodeKind::Scalar(s) => *key = Some((scalar_key(s), node.span)),
                        _ => {
                            if self.error.is_none() {
                                self.error = Some(YamlError {
                                    span: node.span,
                                    message: "mapping keys must be plain names, not lists or mappings".into(),
                                })
                            }
                            *key = Some((String::new(), node.span));
                        }
                    }
                }
                Some((k, kspan)) => {
                    if entries.contains_key(&k) && self.error.is_none() {
                        self.error =
                            Some(YamlError { span: kspan, message: format!("duplicate key `{k}`: each key may appear once in a mapping") });
                    }
                    entries.insert(k, (kspan, node));
                }
            },
        }
    }
}

impl Builder {
    /// YAML merge keys (`<<: *base`, `<<: [*a, *b]`): the merged mappings'
    /// entries join this one unless it has them itself; of several merged
    /// mappings the first wins. Lets a spec write one resource and vary the
    /// next (the reference spec's four VPN tunnels).
    /// https://yaml.org/type/merge.html
    fn merge(&mut self, mut entries: IndexMap<String, (Span, Node)>) -> IndexMap<String, (Span, Node)> {
        let Some((kspan, merged)) = entries.shift_remove("<<") else { return entries };
        let sources = match merged.kind {
            NodeKind::Map(m) => vec![m],
            NodeKind::Seq(items) => items
                .into_iter()
                .filter_map(|n| match n.kind {
                    NodeKind::Map(m) => Some(m),
                    _ => None,
                })
                .collect(),
            _ => {
                if self.error.is_none() {
                    self.error =
                        Some(YamlError { span: kspan, message: "`<<` merges a mapping (an alias such as *base) or a list of them".into() });
                }
                Vec::new()
            }
        };
        for source in sources {
            for (k, v) in source {
                entries.entry(k).or_insert(v);
            }
        }
        entries
    }
}

fn scalar_key(s: &Scalar) -> String {
    match s {
        Scalar::Null => "null".into(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Str(s) => s.clone(),
    }
}

fn plain_scalar(v: &str) -> Scalar {
    // YAML 1.2 core schema resolution for plain scalars.
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        _ => {}
    }
    if let Ok(i) = v.parse::<i64>() {
        return Scalar::Int(i);
    }
    if let Some(hex) = v.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Scalar::Int(i);
        }
    }
    let looks_numeric = v.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == '.');
    if looks_numeric && !v.contains(['/', ':']) {
        if let Ok(f) = v.parse::<f64>() {
            if f.is_finite() {
                return Scalar::Float(f);
            }
        }
    }
    Scalar::Str(v.to_string())
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = mark.index();
        // Past a budget nothing more is built: the error says where it was hit.
        if self.skip > 0 {
            match ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => self.skip += 1,
                Event::SequenceEnd | Event::MappingEnd => self.skip -= 1,
                _ => {}
            }
            return;
        }
        if matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..)) && self.stack.len() >= MAX_DEPTH {
            self.fail(at, format!("lists and mappings nest deeper than {MAX_DEPTH} levels here; a spec never needs that"));
            self.skip = 1;
            return;
        }
        // An alias puts a copy of its anchor's whole value here: nested
        // aliases of nested anchors would otherwise build a tree far deeper
        // than the budget, which cloning and walking overflow the stack on.
        if let Event::Alias(id) = &ev {
            if self.stack.len() + self.heights.get(id).copied().unwrap_or(0) > MAX_DEPTH {
                self.fail(at, format!("this alias nests lists and mappings deeper than {MAX_DEPTH} levels here; a spec never needs that"));
                return;
            }
        }
        if let Event::Alias(id) = &ev {
            self.nodes += self.sizes.get(id).copied().unwrap_or(1);
        }
        if self.nodes > MAX_NODES {
            if self.error.is_none() {
                self.fail(
                    at,
                    format!(
                        "aliases in the document expand to more than {MAX_NODES} values (aliases of aliases?); a spec never needs that"
                    ),
                );
            }
            self.skip = usize::from(matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..)));
            return;
        }
        match ev {
            Event::Scalar(v, style, anchor, _tag) => {
                let len = v.len();
                let scalar = if style == TScalarStyle::Plain { plain_scalar(&v) } else { Scalar::Str(v) };
                let node = Node { span: Span::new(at, len.max(1)), kind: NodeKind::Scalar(scalar) };
                if anchor > 0 {
                    self.sizes.insert(anchor, 1);
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_node(node);
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node { span: Span::new(at, 1), kind: NodeKind::Scalar(Scalar::Null) });
                self.push_node(node);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq { start: at, anchor, items: Vec::new() }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map { start: at, anchor, entries: IndexMap::new(), key: None }),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq { start, anchor, items }) => {
                        (anchor, Node { span: Span::new(start, at.saturating_sub(start).max(1)), kind: NodeKind::Seq(items) })
                    }
                    Some(Frame::Map { start, anchor, entries, .. }) => {
                        let entries = self.merge(entries);
                        (anchor, Node { span: Span::new(start, at.saturating_sub(start).max(1)), kind: NodeKind::Map(entries) })
                    }
                    None => return,
                };
                if node.0 > 0 {
                    self.sizes.insert(node.0, size(&node.1));
                    self.heights.insert(node.0, height(&node.1));
                    self.anchors.insert(node.0, node.1.clone());
                }
                self.push_node(node.1);
            }
            _ => {}
        }
    }
}

/// 1-based line and column of a byte offset, for plain-text messages.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

pub(crate) fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keys_fill_in_what_a_mapping_does_not_set() {
        let text = "base: &b { x: 1, y: 2 }\nother: &o { z: 3 }\none:\n  <<: *b\n  y: 5\ntwo:\n  <<: [*o, *b]\n";
        let root = parse(text).unwrap();
        let m = root.as_map().unwrap();
        let one = m["one"].1.as_map().unwrap();
        assert_eq!(one.keys().collect::<Vec<_>>(), ["y", "x"]);
        assert_eq!(format!("{:?}", one["y"].1.kind), format!("{:?}", NodeKind::Scalar(Scalar::Int(5))));
        let two = m["two"].1.as_map().unwrap();
        assert_eq!(two.len(), 3);
        assert!(parse("a:\n  <<: 3\n").is_err());
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let text = "a: 1\nb:\n  c: hello\n";
        let root = parse(text).unwrap();
        let m = root.as_map().unwrap();
        let (kspan, b) = &m["b"];
        assert_eq!(&text[kspan.start..kspan.start + 1], "b");
        let (_, c) = &b.as_map().unwrap()["c"];
        assert_eq!(line_col(text, c.span.start), (3, 6));
        assert_eq!(c.as_str(), Some("hello"));
    }

    #[test]
    fn resolves_plain_scalars_but_not_quoted() {
        let root = parse("a: 10\nb: '10'\nc: true\nd: 10.0.0.0/16\ne: ~\n").unwrap();
        let m = root.as_map().unwrap();
        assert_eq!(m["a"].1.kind, NodeKind::Scalar(Scalar::Int(10)));
        assert_eq!(m["b"].1.kind, NodeKind::Scalar(Scalar::Str("10".into())));
        assert_eq!(m["c"].1.kind, NodeKind::Scalar(Scalar::Bool(true)));
        assert_eq!(m["d"].1.as_str(), Some("10.0.0.0/16"));
        assert!(m["e"].1.is_null());
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.contains("duplicate key `a`"));
        assert_eq!(e.span.start, 5);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.span.start > 0);
    }

    #[test]
    fn only_values_added_by_aliases_count_against_the_budget() {
        // More plain values than the budget: a large spec, not a bomb.
        let big = format!("a: [{}]\n", vec!["1"; MAX_NODES + 10].join(", "));
        assert!(parse(&big).is_ok());
        // Ten levels of ten aliases each: 10^10 values once expanded.
        let mut laughs = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            laughs.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
        }
        assert!(parse(&laughs).unwrap_err().message.contains("more than 1000000 values"));
    }

    #[test]
    fn never_panics_on_garbage() {
        for s in ["", ":", "- - -", "{", "a: *x", "\u{0}", "a:\n\t- b", "? [a]\n: b", "&a [*a]"] {
            let _ = parse(s);
        }
    }
}
