//! Renderers: one trait, one file per output format.

mod catalogue;
mod json;
mod junit;
mod text;

pub use catalogue::{render_code, render_codes_json, render_codes_text};
pub use json::Json;
pub use junit::Junit;
pub use text::Text;

use crate::config::{Config, OutputFormat};
use crate::report::Report;
use std::io::{self, Write};

pub trait Renderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// The renderer for the configured output format.
pub fn for_config(config: &Config) -> Box<dyn Renderer> {
    match config.format {
        OutputFormat::Text => Box::new(Text {
            color: config.color,
            only_errors: config.only_errors,
            // On a terminal a person reads it: timings help; scripts get az's lines.
            timings: config.verbose || config.color,
            verbose: config.verbose,
        }),
        OutputFormat::Json => Box::new(Json),
        OutputFormat::Junit => Box::new(Junit),
    }
}
