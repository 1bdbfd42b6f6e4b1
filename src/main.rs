//! The acr-health command; everything it does is in the library.

fn main() -> std::process::ExitCode {
    acr_health::main()
}
