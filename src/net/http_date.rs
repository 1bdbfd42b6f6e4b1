//! HTTP dates (`Date: Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110's IMF-fixdate)
//! as Unix seconds, to compare a server's clock with this machine's.

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since the Unix epoch of an IMF-fixdate; `None` for anything else.
pub(crate) fn parse(value: &str) -> Option<i64> {
    let mut parts = value.split_whitespace().skip(1);
    let day: i64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let plausible = (1970..=9999).contains(&year) && (1..=31).contains(&day);
    if parts.next()? != "GMT" || !plausible || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_imf_fixdates() {
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse("Sun, 29 Nov 2026 16:38:00 GMT"), Some(1_795_970_280));
        assert_eq!(parse("Sun, 29 Nov 2026 16:52:28 GMT"), Some(1_795_971_148));
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("Sun, 06 Foo 1994 08:49:37 GMT"), None);
    }
}
