//! Human durations for `timeout`: `500ms`, `30s`, `10m`, `1h30m`.
//!
//! The grammar is humantime's, as for every duration agentls reads (the
//! provider configuration's, `stats --since`); this module states the rules
//! of step timeouts. Owns only the parsing; what a timeout does is the
//! engine's business.

use std::time::Duration;

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not of the form `<number><unit>...`.
    #[error("invalid duration `{0}`: write a number and a unit, e.g. \"500ms\", \"30s\", \"10m\", \"1h30m\"")]
    Malformed(String),
    /// A unit other than `ms`, `s`, `m`, `h`.
    #[error("unknown unit `{unit}` in duration `{text}`: use ms, s, m or h")]
    Unit {
        /// The duration as written.
        text: String,
        /// The unit found.
        unit: String,
    },
    /// Zero: a step that must finish at once can never succeed.
    #[error("duration `{0}` is zero; give a positive duration or remove `timeout`")]
    Zero(String),
    /// Too large to represent.
    #[error("duration `{0}` is too long")]
    TooLong(String),
}

/// The units a step `timeout` takes. humantime knows more (`d`, `w`, `min`,
/// `sec`, ...); a timeout in days is more likely a typo than a wish, and the
/// documented set stays the accepted one.
const UNITS: &[&str] = &["ms", "s", "m", "h"];

/// Parses a step `timeout`: humantime's grammar (one or more
/// `<integer><unit>` parts, summed: `"1h30m"` is 90 minutes; spaces between
/// parts allowed), with this site's rules: units [`UNITS`], whole numbers,
/// and more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let parsed = humantime::parse_duration(text.trim()).map_err(|err| match err {
        humantime::DurationError::UnknownUnit { unit, .. } if !unit.is_empty() => {
            DurationError::Unit {
                text: text.to_owned(),
                unit,
            }
        }
        humantime::DurationError::NumberOverflow => DurationError::TooLong(text.to_owned()),
        _ => DurationError::Malformed(text.to_owned()),
    })?;
    if let Some(unit) = units(text).find(|unit| !UNITS.contains(unit)) {
        return Err(DurationError::Unit {
            text: text.to_owned(),
            unit: unit.to_owned(),
        });
    }
    if text.contains('.') {
        return Err(DurationError::Malformed(text.to_owned()));
    }
    if parsed.is_zero() {
        return Err(DurationError::Zero(text.to_owned()));
    }
    Ok(parsed)
}

/// The unit names in a duration humantime accepted.
fn units(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|unit| !unit.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration(" 1h 30m "), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn refuses_bare_numbers_unknown_units_zero_and_overflow() {
        assert!(matches!(
            parse_duration("30"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration(""),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("m"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("1.5s"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("3 d"),
            Err(DurationError::Unit { .. })
        ));
        assert!(matches!(
            parse_duration("10 seconds"),
            Err(DurationError::Unit { .. })
        ));
        assert!(matches!(
            parse_duration("3d"),
            Err(DurationError::Unit { .. })
        ));
        assert!(matches!(parse_duration("0s"), Err(DurationError::Zero(_))));
        assert!(matches!(
            parse_duration("0h0m"),
            Err(DurationError::Zero(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999h"),
            Err(DurationError::TooLong(_))
        ));
    }
}
