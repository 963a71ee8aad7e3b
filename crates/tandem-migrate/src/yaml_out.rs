//! JSON values written as block YAML for the migrated spec and secrets file:
//! mappings and sequences in block style (a sequence under a key at the
//! key's indentation), multi-line strings as literal blocks, and a string
//! quoted only where a YAML 1.2 reader (and a YAML 1.1 one, for `yes`/`no`)
//! would read it as something else, so `${var.x}` references stay plain.

use serde_json::Value;

/// `value` as a YAML document (no `---`), ending in a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => mapping(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => sequence(&mut out, a, 0),
        other => {
            out.push_str(&inline(other, 0));
            out.push('\n');
        }
    }
    out
}

/// A string as a plain or double-quoted scalar on one line.
pub fn scalar(s: &str) -> String {
    if needs_quotes(s) {
        quoted(s)
    } else {
        s.to_string()
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn mapping(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    for (k, v) in m {
        pad(out, indent);
        out.push_str(&scalar(k));
        out.push(':');
        match v {
            Value::Object(c) if !c.is_empty() => {
                out.push('\n');
                mapping(out, c, indent + 2);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                sequence(out, a, indent);
            }
            other => {
                out.push(' ');
                out.push_str(&inline(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn sequence(out: &mut String, a: &[Value], indent: usize) {
    for v in a {
        pad(out, indent);
        out.push_str("- ");
        match v {
            Value::Object(c) if !c.is_empty() => {
                // The first entry goes on the dash's line, the rest under it.
                let mut inner = String::new();
                mapping(&mut inner, c, indent + 2);
                out.push_str(inner.trim_start_matches(' '));
            }
            Value::Array(x) if !x.is_empty() => {
                let mut inner = String::new();
                sequence(&mut inner, x, indent + 2);
                out.push_str(inner.trim_start_matches(' '));
            }
            other => {
                out.push_str(&inline(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A value that fits after `key: ` or `- `; a multi-line string becomes a
/// literal block indented by `indent`.
fn inline(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        Value::String(s) => match literal(s, indent) {
            Some(block) => block,
            None => scalar(s),
        },
    }
}

/// `|-` / `|` and the lines, when a literal block carries `s` exactly.
fn literal(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n') || s.chars().any(|c| c.is_control() && c != '\n') {
        return None;
    }
    let (body, chomp) = match s.strip_suffix('\n') {
        Some(b) if !b.ends_with('\n') => (b, "|"),
        Some(_) => return None,
        None => (s, "|-"),
    };
    // A first line starting with a space would need an indentation indicator.
    if body.starts_with(' ') || body.lines().any(|l| l.ends_with(' ')) {
        return None;
    }
    let mut out = chomp.to_string();
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    Some(out)
}

fn needs_quotes(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "true", "false", "True", "False", "TRUE", "FALSE", "null", "Null", "NULL", "~", "y", "Y", "n", "N", "yes", "Yes", "YES", "no",
        "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    ];
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control())
        || RESERVED.contains(&s)
        || s.starts_with('.')
        || s.parse::<f64>().is_ok()
        || s.starts_with("0x")
        || s.starts_with("0o")
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_style_with_plain_references() {
        let v = json!({
            "a": { "type": "aws.x", "properties": { "password": "${var.p}", "n": 3, "on": "on", "empty": "", "list": ["x", {"k": "v", "j": 1}], "none": {}, "nil": null } }
        });
        assert_eq!(
            to_string(&v),
            "a:\n  type: aws.x\n  properties:\n    password: ${var.p}\n    \"n\": 3\n    \"on\": \"on\"\n    empty: \"\"\n    list:\n    - x\n    - k: v\n      j: 1\n    none: {}\n    nil: null\n"
        );
        assert_eq!(to_string(&json!({"flow": "{\n  \"A\": 1\n}"})), "flow: |-\n  {\n    \"A\": 1\n  }\n");
        assert_eq!(to_string(&json!({"s": "12", "t": "a: b", "u": "x\ty"})), "s: \"12\"\nt: \"a: b\"\nu: \"x\\ty\"\n");
    }

    #[test]
    fn what_it_writes_reads_back_the_same() {
        let v = json!({
            "k": ["- a", "#b", "c #d", "yes", "1.5", "0x1F", "multi\nline\n", "trailing  \nspace", " lead", [["deep"]], [], {"m": {"n": [1, 2]}}],
            "x:y": "${a.b}[0]", "q": "say \"hi\"\\", "f": 1.5, "b": false
        });
        let text = to_string(&v);
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("valid YAML");
        assert_eq!(to_json(&docs[0]), v, "{text}");
    }

    fn to_json(y: &yaml_rust2::Yaml) -> Value {
        use yaml_rust2::Yaml;
        match y {
            Yaml::Hash(h) => Value::Object(h.iter().map(|(k, v)| (k.as_str().unwrap().to_string(), to_json(v))).collect()),
            Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
            Yaml::String(s) => json!(s),
            Yaml::Integer(i) => json!(i),
            Yaml::Real(r) => json!(r.parse::<f64>().unwrap()),
            Yaml::Boolean(b) => json!(b),
            _ => Value::Null,
        }
    }
}
