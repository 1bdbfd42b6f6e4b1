//! `--query`: a JMESPath expression over the JSON report, compiled once
//! and bounded so that no expression can exhaust the parser's stack.

/// A JMESPath expression over the JSON report (`--query`).
pub(crate) struct Query(pub(super) jmespath::Expression<'static>);

/// A `--query` that failed on the report (`length(healthy)`): bad input,
/// said in one line, not a failure to write.
#[derive(Debug, thiserror::Error)]
#[error("--query: {0}")]
pub(crate) struct QueryFailed(pub(super) String);

/// How deeply a `--query` may nest, and how many operators it may chain
/// (`!`, `.`, `|`…, each a level of the parser's recursion): far beyond
/// any real query, and far below what would exhaust the stack.
const MAX_QUERY_DEPTH: usize = 64;
const MAX_QUERY_OPERATORS: usize = 256;

impl Query {
    /// Compiles `text`; the error says why it is not JMESPath.
    pub(crate) fn compile(text: &str) -> Result<Query, String> {
        let (depth, operators) = shape(text);
        if depth > MAX_QUERY_DEPTH {
            return Err(format!(
                "the expression nests more than {MAX_QUERY_DEPTH} levels deep"
            ));
        }
        if operators > MAX_QUERY_OPERATORS {
            return Err(format!(
                "the expression chains more than {MAX_QUERY_OPERATORS} operators"
            ));
        }
        jmespath::compile(text)
            .map(Query)
            .map_err(|e| format!("'{text}' is not a JMESPath expression ({})", e.reason))
    }
}

/// The deepest nesting of brackets, parentheses and braces in a JMESPath
/// expression, and how many operators and brackets it holds, outside its
/// quoted strings and literals.
fn shape(text: &str) -> (usize, usize) {
    let (mut depth, mut deepest, mut quote, mut operators) = (0usize, 0, None, 0);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
                operators += 1;
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, '!' | '.' | '|' | '&' | '<' | '>' | '=' | ',' | '-') => operators += 1,
            (None, _) => {}
        }
    }
    (deepest, operators)
}
