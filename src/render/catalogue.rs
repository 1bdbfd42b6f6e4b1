//! `acr-health explain` and `acr-health codes`.

use crate::check_about::about_check;
use crate::check_id::CheckId;
use crate::codes::{CodeInfo, ErrorCode, CATALOGUE};
use serde_json::json;
use std::io::{self, Write};

pub fn render_code(code: ErrorCode, out: &mut dyn Write) -> io::Result<()> {
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
    let reporting: Vec<&str> = CheckId::ALL
        .iter()
        .filter(|c| about_check(**c).codes.contains(&code))
        .map(|c| c.as_str())
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
pub fn render_check(id: CheckId, out: &mut dyn Write) -> io::Result<()> {
    let about = about_check(id);
    writeln!(out, "{} — {}", id.as_str(), id.title())?;
    writeln!(out)?;
    writeln!(out, "{}", about.proves)?;
    if !about.warnings.is_empty() {
        writeln!(out)?;
        writeln!(out, "Warns when:")?;
        for (when, what) in about.warnings {
            writeln!(out, "  - {when}: {what}.")?;
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

pub fn render_codes_text(out: &mut dyn Write) -> io::Result<()> {
    let width = CATALOGUE.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for info in CATALOGUE {
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

pub fn render_codes_json(out: &mut dyn Write) -> io::Result<()> {
    let all: Vec<_> = CATALOGUE.iter().map(code_json).collect();
    serde_json::to_writer_pretty(&mut *out, &all)?;
    writeln!(out)
}
