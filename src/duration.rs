//! Durations as people write them on the command line and read them in
//! messages.

use std::time::Duration;

/// `--timeout` when not given: the default of each step's limit.
pub(crate) const DEFAULT_TIMEOUT: &str = "10";
/// The longest `--timeout` accepted.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// Parses `--timeout`: seconds (`10`, `2.5`) or with a unit (`500ms`, `3s`, `1m`).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| {
        format!("'{s}' is not a duration (use seconds such as 10 or 2.5, or 500ms)")
    })?;
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("'{s}' must be greater than zero"));
    }
    // Compared before the conversion, which panics on values out of range.
    if secs > MAX_TIMEOUT.as_secs_f64() {
        return Err(format!("'{s}' is longer than the maximum of 1 hour"));
    }
    let d = Duration::from_secs_f64(secs);
    if d < Duration::from_millis(1) {
        return Err(format!("'{s}' is shorter than the minimum of 1ms"));
    }
    Ok(d)
}

/// A duration as a person would write it: `10s`, `2.5s`, `500ms`.
pub(crate) fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        let s = d.as_secs_f64();
        if s.fract() == 0.0 {
            format!("{}s", s as u64)
        } else {
            format!("{s:.1}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        for bad in [
            "", "abc", "0", "-1", "nan", "inf", "2h", "7200", "1e20", "1e300m",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_duration(Duration::from_secs(10)), "10s");
        assert_eq!(format_duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
    }
}
