//! Help outside `--help`: manual pages and shell completions, both made
//! from the command line's own definition, and the value parser that lets
//! completions offer check ids and codes.

pub(crate) mod completions;
pub(crate) mod man;

use clap::builder::{PossibleValue, TypedValueParser};

/// A value parsed by `parse`, whose accepted words (`values`) completions
/// offer; help does not list them (`hide_possible_values`), and `parse`
/// stays the judge (short forms and any case are accepted).
#[derive(Clone)]
pub(crate) struct Offering<T> {
    pub parse: fn(&str) -> Result<T, String>,
    pub values: fn() -> Vec<&'static str>,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Offering<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        self.parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            (self.values)().into_iter().map(PossibleValue::new),
        ))
    }
}
