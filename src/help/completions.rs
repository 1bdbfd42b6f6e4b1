//! Shell completion scripts.

use std::io::Write;

/// The completion script for `shell`, made whole before it is written (the
/// generator panics on a failed write).
pub(crate) fn write(
    shell: clap_complete::Shell,
    mut cmd: clap::Command,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, &name, &mut script);
    match shell {
        clap_complete::Shell::Bash => script = bash_names_fixed(&name, &script),
        clap_complete::Shell::Fish => script.extend(fish_positionals(&cmd).into_bytes()),
        _ => {}
    }
    out.write_all(&script)
}

/// clap_complete's fish script offers no words for a positional argument:
/// `explain`'s codes and checks, `man`'s commands, `completions`' shells
/// are added.
fn fish_positionals(cmd: &clap::Command) -> String {
    let fn_name = cmd.get_name().replace('-', "_");
    let mut lines = String::new();
    for sub in cmd.get_subcommands() {
        for arg in sub.get_positionals() {
            let words: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if words.is_empty() {
                continue;
            }
            lines.push_str(&format!(
                "complete -c {} -n \"__fish_{fn_name}_using_subcommand {}\" -f -a \"{}\"\n",
                cmd.get_name(),
                sub.get_name(),
                words.join(" ")
            ));
        }
    }
    lines
}

/// clap_complete's bash script names a subcommand's case arm differently
/// from the state it sets when the binary's name has a hyphen
/// (`acr__health__subcmd__check` is set, `acr__subcmd__health__subcmd__check`
/// is matched: clap-rs/clap#6421), so nothing after the subcommand
/// completes. The arms are renamed to match.
fn bash_names_fixed(name: &str, script: &[u8]) -> Vec<u8> {
    let set = name.replace('-', "__");
    let matched = name.replace('-', "__subcmd__");
    if set == matched {
        return script.to_vec();
    }
    String::from_utf8_lossy(script)
        .replace(&format!("{matched}__"), &format!("{set}__"))
        .into_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_case_arms_are_named_as_the_state() {
        let script = b"cmd=\"acr__health__subcmd__check\"\n    acr__subcmd__health__subcmd__check)\n    acr__health)\n";
        let fixed = String::from_utf8(super::bash_names_fixed("acr-health", script)).unwrap();
        assert_eq!(
            fixed,
            "cmd=\"acr__health__subcmd__check\"\n    acr__health__subcmd__check)\n    acr__health)\n"
        );
    }
}
