//! Problems in a spec, for people: file, line, column, what was expected,
//! what to do. All problems of a load are reported together.

use crate::yaml::{floor_char_boundary, Span};
use miette::{Diagnostic, LabeledSpan, SourceCode};
use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Weak};

/// The text of a spec file and the name it is shown under.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// 1-based line and column of a byte offset in a source. Counting lines
/// from the top per problem made a spec with many warnings quadratic (one
/// per overlapping VPC: 50,000 at 100,000 VPCs), so the line starts of the
/// last source asked about are kept; the `Weak` keeps its allocation, so
/// the address cannot be reused by another source while it is remembered.
pub(crate) fn line_col(src: &Arc<SourceFile>, offset: usize) -> (usize, usize) {
    thread_local! {
        static LINES: RefCell<Option<(Weak<SourceFile>, Vec<usize>)>> = const { RefCell::new(None) };
    }
    LINES.with(|cell| {
        let mut cell = cell.borrow_mut();
        let starts = match &mut *cell {
            Some((w, starts)) if std::ptr::eq(w.as_ptr(), Arc::as_ptr(src)) => starts,
            other => {
                let starts = std::iter::once(0).chain(src.text.match_indices('\n').map(|(i, _)| i + 1)).collect();
                &mut other.insert((Arc::downgrade(src), starts)).1
            }
        };
        let offset = floor_char_boundary(&src.text, offset.min(src.text.len()));
        let line = starts.partition_point(|&s| s <= offset);
        let first = starts.get(line.wrapping_sub(1)).copied().unwrap_or(0);
        (line.max(1), src.text[first..offset].chars().count() + 1)
    })
}

/// Every code a [`Problem`] carries: stable names (`tandem::spec::unknown_field`)
/// for docs and scripts (`problems[].code` in JSON, docs/json.md). One enum,
/// so a code cannot be misspelt at one call site and the list is the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// `tandem::fmt`
    Fmt,
    /// `tandem::import_file`
    ImportFile,
    /// `tandem::spec::asn`
    SpecAsn,
    /// `tandem::spec::backend`
    SpecBackend,
    /// `tandem::spec::cycle`
    SpecCycle,
    /// `tandem::spec::each`
    SpecEach,
    /// `tandem::spec::file`
    SpecFile,
    /// `tandem::spec::for_each`
    SpecForEach,
    /// `tandem::spec::missing_field`
    SpecMissingField,
    /// `tandem::spec::missing_type`
    SpecMissingType,
    /// `tandem::spec::moved`
    SpecMoved,
    /// `tandem::spec::overlap`
    SpecOverlap,
    /// `tandem::spec::overlap_unconnected`
    SpecOverlapUnconnected,
    /// `tandem::spec::reference`
    SpecReference,
    /// `tandem::spec::region`
    SpecRegion,
    /// `tandem::spec::resource_name`
    SpecResourceName,
    /// `tandem::spec::rule`
    SpecRule,
    /// `tandem::spec::sensitive_in_plain_field`
    SpecSensitiveInPlainField,
    /// `tandem::spec::shape`
    SpecShape,
    /// `tandem::spec::stage`
    SpecStage,
    /// `tandem::spec::type`
    SpecType,
    /// `tandem::spec::undeclared_variable`
    SpecUndeclaredVariable,
    /// `tandem::spec::unknown_field`
    SpecUnknownField,
    /// `tandem::spec::unknown_output`
    SpecUnknownOutput,
    /// `tandem::spec::unknown_resource`
    SpecUnknownResource,
    /// `tandem::spec::unknown_type`
    SpecUnknownType,
    /// `tandem::spec::unknown_variable`
    SpecUnknownVariable,
    /// `tandem::spec::value`
    SpecValue,
    /// `tandem::spec::var_file`
    SpecVarFile,
    /// `tandem::spec::variable_type`
    SpecVariableType,
    /// `tandem::spec::variable_unset`
    SpecVariableUnset,
    /// `tandem::spec::variable_value`
    SpecVariableValue,
    /// `tandem::spec::version`
    SpecVersion,
    /// `tandem::spec::wrong_kind`
    SpecWrongKind,
    /// `tandem::spec::yaml`
    SpecYaml,
    /// `tandem::usage`
    Usage,
}

impl Code {
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Fmt => "tandem::fmt",
            Code::ImportFile => "tandem::import_file",
            Code::SpecAsn => "tandem::spec::asn",
            Code::SpecBackend => "tandem::spec::backend",
            Code::SpecCycle => "tandem::spec::cycle",
            Code::SpecEach => "tandem::spec::each",
            Code::SpecFile => "tandem::spec::file",
            Code::SpecForEach => "tandem::spec::for_each",
            Code::SpecMissingField => "tandem::spec::missing_field",
            Code::SpecMissingType => "tandem::spec::missing_type",
            Code::SpecMoved => "tandem::spec::moved",
            Code::SpecOverlap => "tandem::spec::overlap",
            Code::SpecOverlapUnconnected => "tandem::spec::overlap_unconnected",
            Code::SpecReference => "tandem::spec::reference",
            Code::SpecRegion => "tandem::spec::region",
            Code::SpecResourceName => "tandem::spec::resource_name",
            Code::SpecRule => "tandem::spec::rule",
            Code::SpecSensitiveInPlainField => "tandem::spec::sensitive_in_plain_field",
            Code::SpecShape => "tandem::spec::shape",
            Code::SpecStage => "tandem::spec::stage",
            Code::SpecType => "tandem::spec::type",
            Code::SpecUndeclaredVariable => "tandem::spec::undeclared_variable",
            Code::SpecUnknownField => "tandem::spec::unknown_field",
            Code::SpecUnknownOutput => "tandem::spec::unknown_output",
            Code::SpecUnknownResource => "tandem::spec::unknown_resource",
            Code::SpecUnknownType => "tandem::spec::unknown_type",
            Code::SpecUnknownVariable => "tandem::spec::unknown_variable",
            Code::SpecValue => "tandem::spec::value",
            Code::SpecVarFile => "tandem::spec::var_file",
            Code::SpecVariableType => "tandem::spec::variable_type",
            Code::SpecVariableUnset => "tandem::spec::variable_unset",
            Code::SpecVariableValue => "tandem::spec::variable_value",
            Code::SpecVersion => "tandem::spec::version",
            Code::SpecWrongKind => "tandem::spec::wrong_kind",
            Code::SpecYaml => "tandem::spec::yaml",
            Code::Usage => "tandem::usage",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone)]
pub struct Problem {
    /// Stable code (`tandem::spec::unknown_field`) for docs and scripts.
    pub code: Code,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub span: Option<Span>,
    pub source: Option<Arc<SourceFile>>,
}

impl Problem {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Problem { code, message: message.into(), label: String::new(), help: None, span: None, source: None }
    }
    pub fn at(mut self, source: &Arc<SourceFile>, span: Span, label: impl Into<String>) -> Self {
        self.source = Some(source.clone());
        self.span = Some(span);
        self.label = label.into();
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// `file:line:col`, when the problem has a place.
    pub fn location(&self) -> Option<String> {
        let (src, span) = (self.source.as_ref()?, self.span?);
        let (line, col) = line_col(src, span.start);
        Some(format!("{}:{line}:{col}", src.name))
    }
    pub fn to_json(&self) -> serde_json::Value {
        let (file, line, column) = match (&self.source, self.span) {
            (Some(src), Some(span)) => {
                let (l, c) = line_col(src, span.start);
                (Some(src.name.clone()), Some(l), Some(c))
            }
            _ => (None, None, None),
        };
        serde_json::json!({
            "code": self.code, "message": self.message, "help": self.help,
            "file": file, "line": line, "column": column,
        })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location() {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    // The source is attached with its file name when rendering (see `render`).
    fn source_code(&self) -> Option<&dyn SourceCode> {
        None
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(self.label.clone()), span))))
    }
}

/// Every problem found in one pass.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.0.push(p);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }
    pub fn into_result<T>(self, v: T) -> Result<T, Problems> {
        if self.is_empty() {
            Ok(v)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
            if let Some(h) = &p.help {
                write!(f, "\n  help: {h}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// The closest known name to `word`, if one is close enough to be a likely
/// typo: a high Jaro-Winkler similarity, or (for short names, where
/// Jaro-Winkler is unreliable) few edits, swaps included.
pub fn suggest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Edit distance costs length x length: a typo of a name is short, and a
    // 300 KB "type" must not take seconds to refuse.
    const LONGEST: usize = 128;
    if word.len() > LONGEST {
        return None;
    }
    let max_edits = (word.chars().count() / 3).max(1);
    known
        .into_iter()
        .filter(|k| *k != word && k.len() <= LONGEST)
        .map(|k| {
            let jw = strsim::jaro_winkler(word, k);
            let edits = strsim::damerau_levenshtein(word, k);
            let score = if edits <= max_edits { jw.max(0.9) + 0.05 / (edits as f64 + 1.0) } else { jw };
            (score, k)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn every_code_is_a_distinct_tandem_name() {
        let all = [
            Code::Fmt,
            Code::ImportFile,
            Code::SpecAsn,
            Code::SpecBackend,
            Code::SpecCycle,
            Code::SpecEach,
            Code::SpecFile,
            Code::SpecForEach,
            Code::SpecMissingField,
            Code::SpecMissingType,
            Code::SpecMoved,
            Code::SpecOverlap,
            Code::SpecOverlapUnconnected,
            Code::SpecReference,
            Code::SpecRegion,
            Code::SpecResourceName,
            Code::SpecRule,
            Code::SpecSensitiveInPlainField,
            Code::SpecShape,
            Code::SpecStage,
            Code::SpecType,
            Code::SpecUndeclaredVariable,
            Code::SpecUnknownField,
            Code::SpecUnknownOutput,
            Code::SpecUnknownResource,
            Code::SpecUnknownType,
            Code::SpecUnknownVariable,
            Code::SpecValue,
            Code::SpecVarFile,
            Code::SpecVariableType,
            Code::SpecVariableUnset,
            Code::SpecVariableValue,
            Code::SpecVersion,
            Code::SpecWrongKind,
            Code::SpecYaml,
            Code::Usage,
        ];
        let names: std::collections::BTreeSet<&str> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), all.len(), "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("tandem::") && n.chars().all(|c| c.is_ascii_lowercase() || c == ':' || c == '_')));
        assert_eq!(serde_json::to_value(Code::SpecUnknownField).unwrap(), "tandem::spec::unknown_field");
        assert_eq!(Code::SpecUnknownField, "tandem::spec::unknown_field");
    }

    #[test]
    fn line_col_of_a_source_is_that_of_counting_from_the_top() {
        let text = "a: 1\n\nbé: [x, ü]\n  c\nlast";
        let (one, two) =
            (Arc::new(SourceFile { name: "a".into(), text: text.into() }), Arc::new(SourceFile { name: "b".into(), text: "x\ny".into() }));
        for offset in 0..text.len() + 3 {
            assert_eq!(line_col(&one, offset), crate::yaml::line_col(text, offset), "at {offset}");
            // Another source in between: the kept line starts are not reused for it.
            assert_eq!(line_col(&two, 2), (2, 1));
        }
    }
}
