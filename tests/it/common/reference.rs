//! The Microsoft health-check error reference, parsed: the contract the
//! catalogue and the printed remediation are checked against.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Entry {
    pub code: String,
    /// The paragraph(s) explaining the error.
    pub meaning: String,
    /// The "Potential solutions" text; empty when the reference gives the
    /// advice inside the meaning paragraph.
    pub remediation: String,
    /// Where the report links to for this code.
    pub docs_url: String,
}

/// The reference as kept in the repository.
pub fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health-error-reference.txt")
}

pub fn parse(text: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut in_codes = false;
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let is_code =
            para.ends_with("_ERROR") && para.chars().all(|c| c.is_ascii_uppercase() || c == '_');
        if is_code {
            in_codes = true;
            entries.push(Entry {
                code: para.to_string(),
                meaning: String::new(),
                remediation: String::new(),
                docs_url: format!("https://aka.ms/acr/errors#{}", para.to_lowercase()),
            });
            continue;
        }
        if para == "Next steps" {
            in_codes = false;
        }
        let Some(entry) = entries.last_mut().filter(|_| in_codes) else {
            continue;
        };
        if let Some(rest) = para
            .strip_prefix("Potential solutions:")
            .or_else(|| para.strip_prefix("Potential solution:"))
        {
            entry.remediation = rest.trim().to_string();
        } else {
            if !entry.meaning.is_empty() {
                entry.meaning.push(' ');
            }
            entry.meaning.push_str(para);
        }
    }
    entries
}

pub fn entries() -> Vec<Entry> {
    parse(&std::fs::read_to_string(path()).expect("reference file readable"))
}

/// The entry of `code`: from the reference, or for a code acr-health adds,
/// from its own catalogue (`acr-health codes --json`).
pub fn entry(code: &str) -> Entry {
    if let Some(e) = entries().into_iter().find(|e| e.code == code) {
        return e;
    }
    let out = std::process::Command::new(super::BIN)
        .args(["codes", "--json"])
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code && c["documented"] == false)
        .unwrap_or_else(|| panic!("{code} is neither in the reference nor an acr-health code"));
    Entry {
        code: code.to_string(),
        meaning: c["meaning"].as_str().unwrap().to_string(),
        remediation: c["remediation"].as_str().unwrap().to_string(),
        docs_url: c["docs_url"].as_str().unwrap().to_string(),
    }
}

/// az's message templates for `code` (azure-cli 2.91 `acr/_errors.py`, kept
/// in tests/fixtures), `{}` where az fills in a value; where az says to
/// upgrade the Azure CLI, acr-health names itself.
pub fn az_templates(code: &str) -> Vec<String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/az-2.91-acr-errors.py");
    let text = std::fs::read_to_string(path).unwrap();
    text.split("ErrorClass(\n")
        .skip(1)
        .filter_map(|block| {
            let mut quoted = block
                .lines()
                .take(2)
                .map(|l| l.trim().trim_end_matches(',').trim_matches('"').to_string());
            let (title, message) = (quoted.next()?, quoted.next()?);
            (title == code).then(|| message.replace("Azure CLI version", "acr-health version"))
        })
        .flat_map(with_credential_advice)
        .collect()
}

/// az's advice to run `az login` suits an az login only; with another
/// credential acr-health says what to check for that one instead.
pub const ADVICE_INSTEAD_OF_AZ_LOGIN: [&str; 4] = [
    "Please check the username and password (the admin user's, or a token's and its scope map).",
    "Please check the service principal's role assignment on the registry (AcrPull) and its client secret.",
    "Please check the workload identity's role assignment on the registry (AcrPull) and its federated credential.",
    "Please check the managed identity's role assignment on the registry (AcrPull).",
];

const AZ_LOGIN_ADVICE: &str = "Please try running 'az login' again to refresh permissions.";

/// A template as az words it, and, where az says to run `az login`, as
/// acr-health words it for each other credential.
fn with_credential_advice(template: String) -> Vec<String> {
    let mut all: Vec<String> = match template.contains(AZ_LOGIN_ADVICE) {
        true => ADVICE_INSTEAD_OF_AZ_LOGIN
            .iter()
            .map(|advice| template.replace(AZ_LOGIN_ADVICE, advice))
            .collect(),
        false => Vec::new(),
    };
    all.insert(0, template);
    all
}

/// Whether `text` begins with `template`, its `{}` filled in with anything.
pub fn begins_with_filled(template: &str, text: &str) -> bool {
    let mut pieces = template.split("{}");
    let Some(rest) = pieces.next().and_then(|first| text.strip_prefix(first)) else {
        return false;
    };
    let mut rest = rest;
    for piece in pieces {
        match rest.find(piece) {
            Some(at) if !piece.is_empty() => rest = &rest[at + piece.len()..],
            Some(_) => {}
            None => return false,
        }
    }
    true
}

/// The reference's remediation as acr-health prints it: the same words,
/// with the link the reference's "here" stands for written out.
pub fn remediation_as_printed(reference: &str) -> String {
    let reference = as_printed(reference);
    match reference.strip_suffix("can be found here.") {
        Some(start) => format!("{start}can be found here: https://learn.microsoft.com/cli/azure/use-azure-cli-successfully-troubleshooting#work-behind-a-proxy."),
        None => reference,
    }
}

/// The reference's words as acr-health prints them: where the reference
/// blames or updates the Azure CLI as the tool that ran the check, it is
/// acr-health that runs it (the cloud and login stay az's).
pub fn as_printed(reference: &str) -> String {
    reference
        .replace("Azure CLI version", "acr-health version")
        .replace(
            "update Azure CLI to the latest version",
            "update acr-health to the latest version",
        )
}
