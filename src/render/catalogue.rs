//! `acr-health explain` and `acr-health codes`.

use crate::check_spec::CheckSpec;
use crate::codes::{CodeInfo, ErrorCode, CATALOGUE};
use serde_json::json;
use std::io::{self, Write};

/// `acr-health explain <code>`; `checks` are every check, to name the
/// ones that report it.
pub(crate) fn render_code(
    code: ErrorCode,
    checks: &[&CheckSpec],
    out: &mut dyn Write,
) -> io::Result<()> {
    let info = code.info();
    writeln!(out, "{} — {}", info.name, info.title)?;
    writeln!(out)?;
    writeln!(out, "{}", info.meaning)?;
    writeln!(out)?;
    if info.documented {
        writeln!(out, "az acr check-health says: {}", info.az_sentence)?;
        writeln!(out)?;
    }
    writeln!(out, "Potential solutions: {}", info.remediation)?;
    writeln!(out, "More information: {}", code.docs_url())?;
    if !info.documented {
        writeln!(
            out,
            "(This code is specific to acr-health; az acr check-health does not report it.)"
        )?;
    }
    // `explain cmk` reads as the code; the checks that report it are a
    // word away.
    let reporting: Vec<&str> = checks
        .iter()
        .filter(|c| c.codes.contains(&code))
        .map(|c| c.key)
        .collect();
    if !reporting.is_empty() {
        writeln!(
            out,
            "Reported by: {} (acr-health explain <check>)",
            reporting.join(", ")
        )?;
    }
    Ok(())
}

/// `acr-health explain <check>`.
pub(crate) fn render_check(about: &CheckSpec, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} — {}", about.key, about.title)?;
    writeln!(out)?;
    writeln!(out, "{}", about.proves)?;
    if !about.warnings.is_empty() {
        writeln!(out)?;
        writeln!(out, "Warns when:")?;
        for w in about.warnings {
            writeln!(out, "  - {}: {}.", w.when, w.what_to_do)?;
        }
    }
    writeln!(out)?;
    if about.codes.is_empty() {
        writeln!(out, "Fails with: no code (it warns or passes).")?;
    } else {
        let names: Vec<&str> = about.codes.iter().map(|c| c.info().name).collect();
        writeln!(
            out,
            "Fails with: {} (acr-health explain <code>).",
            names.join(", ")
        )?;
    }
    Ok(())
}

pub(crate) fn render_codes_text(out: &mut dyn Write) -> io::Result<()> {
    let width = CATALOGUE.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for info in &CATALOGUE {
        writeln!(out, "{:width$}  {}", info.name, info.title)?;
    }
    Ok(())
}

fn code_json(info: &CodeInfo) -> serde_json::Value {
    json!({
        "code": info.name,
        "title": info.title,
        "summary": info.summary,
        "az_sentence": info.az_sentence,
        "meaning": info.meaning,
        "remediation": info.remediation,
        "docs_url": info.code.docs_url(),
        "documented": info.documented,
    })
}

pub(crate) fn render_codes_json(out: &mut dyn Write) -> io::Result<()> {
    let all: Vec<_> = CATALOGUE.iter().map(code_json).collect();
    serde_json::to_writer_pretty(&mut *out, &all)?;
    writeln!(out)
}

/// `acr-health checks`: every check's key and title, or with `json` its
/// whole declaration.
pub(crate) fn render_checks(
    checks: &[&CheckSpec],
    json: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if json {
        let all: Vec<_> = checks.iter().map(|c| check_json(c)).collect();
        serde_json::to_writer_pretty(&mut *out, &all)?;
        return writeln!(out);
    }
    let width = checks.iter().map(|c| c.key.len()).max().unwrap_or(0);
    for c in checks {
        writeln!(out, "{:width$}  {}", c.key, c.title)?;
    }
    Ok(())
}

fn check_json(c: &CheckSpec) -> serde_json::Value {
    let warnings: Vec<_> = c
        .warnings
        .iter()
        .map(|w| json!({"when": w.when, "what_to_do": w.what_to_do}))
        .collect();
    let codes: Vec<&str> = c.codes.iter().map(|code| code.info().name).collect();
    json!({
        "id": c.key,
        "title": c.title,
        "proves": c.proves,
        "warnings": warnings,
        "codes": codes,
    })
}
