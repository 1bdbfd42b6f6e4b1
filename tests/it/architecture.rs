//! The module structure stays one-way: no module imports, directly or
//! through others, a module that imports it. Read from the sources, so a
//! new cycle fails CI with the files that form it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Source files by module path (`net::proxy` → src/net/proxy.rs).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod")) {
                parts.pop();
            }
            if matches!(parts.as_slice(), [one] if one == "lib" || one == "main") {
                continue;
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// The modules a file refers to through `crate::…` and `super::…` paths,
/// outside its tests.
fn references(module: &str, text: &str, known: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let parent: Vec<&str> = {
        let mut p: Vec<&str> = module.split("::").collect();
        p.pop();
        p
    };
    let mut found = BTreeSet::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut parts: Vec<String> = base.iter().map(|s| s.to_string()).collect();
            parts.extend(
                path.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
            // The longest prefix that is a module of its own.
            while !parts.is_empty() && !known.contains_key(&parts.join("::")) {
                parts.pop();
            }
            let target = parts.join("::");
            if !target.is_empty() && target != module && !module.starts_with(&format!("{target}::"))
            {
                found.insert(target);
            }
        }
    }
    found
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known = modules(&src);
    known
        .iter()
        .map(|(m, path)| {
            let text = std::fs::read_to_string(path).unwrap();
            (m.clone(), references(m, &text, &known))
        })
        .collect()
}

#[test]
fn no_module_imports_form_a_cycle() {
    let graph = import_graph();
    assert!(graph.len() > 20, "the sources were not found: {graph:?}");
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles: {found:?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    graph.insert("d".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
}

/// Modules the checks use: they import none of the layers above them.
const LOW: [&str; 11] = [
    "net",
    "node",
    "acr",
    "azure",
    "process",
    "report",
    "codes",
    "secret",
    "untrusted",
    "env",
    "check_spec",
];

/// What a renderer must not import: it reads only the report and its own
/// options.
const NOT_FOR_RENDERERS: [&str; 8] = [
    "checks", "pipeline", "config", "cli", "net", "azure", "acr", "process",
];

/// The first import of `module` that its layer forbids, if any.
fn forbidden_import(module: &str, imports: &BTreeSet<String>) -> Option<String> {
    let root_of = |m: &str| m.split("::").next().unwrap_or_default().to_string();
    let root = root_of(module);
    let forbidden: &[&str] = if LOW.contains(&root.as_str()) {
        &["checks", "pipeline", "config", "cli", "render", "app"]
    } else if root == "render" {
        &NOT_FOR_RENDERERS
    } else {
        &[]
    };
    imports
        .iter()
        .find(|i| forbidden.contains(&root_of(i).as_str()))
        .map(|i| format!("{module} imports {i}"))
}

#[test]
fn lower_layers_do_not_reach_up() {
    // Renderers read only the report; the layers below the checks never
    // import the checks, the pipeline, the configuration or the renderers.
    let graph = import_graph();
    let found: Vec<String> = graph
        .iter()
        .filter_map(|(m, imports)| forbidden_import(m, imports))
        .collect();
    assert!(found.is_empty(), "imports against the layers: {found:?}");
}

#[test]
fn the_layer_rule_catches_a_renderer_that_reads_the_configuration() {
    let imports = BTreeSet::from(["report".to_string(), "config".to_string()]);
    assert!(forbidden_import("render::text", &imports).is_some());
    assert!(forbidden_import("net::tls", &BTreeSet::from(["checks".to_string()])).is_some());
    assert!(forbidden_import("pipeline", &imports).is_none());
}

/// The lines of `text` that read the process environment.
fn environment_reads(text: &str) -> Vec<String> {
    const READS: [&str; 5] = [
        "env::var(",
        "env::var_os(",
        "env::vars(",
        "env::vars_os(",
        "env::current_dir(",
    ];
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .filter(|l| READS.iter().any(|r| l.contains(r)))
        .map(|l| l.trim().to_string())
        .collect()
}

/// The lines of `text` that read a check's JSON details back.
fn details_reads(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .filter(|l| l.contains("details.get(") || l.contains("details["))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn only_the_configuration_reads_the_environment_and_nothing_reads_details_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for (module, path) in modules(&src) {
        let text = std::fs::read_to_string(&path).unwrap();
        if module != "config" {
            found.extend(
                environment_reads(&text)
                    .into_iter()
                    .map(|l| format!("{module}: {l}")),
            );
        }
        // Checks hand typed facts on; details are written for the JSON report.
        found.extend(
            details_reads(&text)
                .into_iter()
                .map(|l| format!("{module}: {l}")),
        );
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_source_rules_catch_what_they_forbid() {
    let sample = "let x = std::env::var(\"HOME\");\nlet ip = r.details[\"client_ip\"];\nlet s = r.details.get(\"status\");\n// std::env::var( in a comment\nlet p = std::env::split_paths(&v);";
    assert_eq!(environment_reads(sample).len(), 1);
    assert_eq!(details_reads(sample).len(), 2);
}

/// The code lines of `text` (before its tests) wider than `max` columns.
fn wide_lines(text: &str, max: usize) -> Vec<usize> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    code.lines()
        .enumerate()
        .filter(|(_, l)| l.chars().count() > max)
        .map(|(n, _)| n + 1)
        .collect()
}

#[test]
fn source_lines_fit_in_a_hundred_columns() {
    // rustfmt's width; long messages are split with string continuations.
    // Unit tests may quote a tool's output verbatim.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for path in modules(&src).values() {
        let text = std::fs::read_to_string(path).unwrap();
        for line in wide_lines(&text, 100) {
            found.push(format!("{}:{line}", path.display()));
        }
    }
    assert!(found.is_empty(), "lines wider than 100 columns: {found:#?}");
    assert_eq!(
        wide_lines(
            &format!(
                "short\n{}\n#[cfg(test)]\n{}",
                "x".repeat(11),
                "y".repeat(11)
            ),
            10
        ),
        vec![2]
    );
}
