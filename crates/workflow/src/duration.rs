//! Human durations for `timeout`: `500ms`, `30s`, `10m`, `1h30m`.
//!
//! Owns only the parsing; what a timeout does is the engine's business.

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

/// Parse `text` as a sequence of `<integer><unit>` parts (units `ms`, `s`, `m`, `h`),
/// summed: `"1h30m"` is 90 minutes.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let malformed = || DurationError::Malformed(text.to_owned());
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(malformed());
    }
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(malformed());
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| DurationError::TooLong(text.to_owned()))?;
        rest = &rest[digits..];
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "" => return Err(malformed()),
            other => {
                return Err(DurationError::Unit {
                    text: text.to_owned(),
                    unit: other.to_owned(),
                })
            }
        };
        total_ms = number
            .checked_mul(factor)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| DurationError::TooLong(text.to_owned()))?;
    }
    if total_ms == 0 {
        return Err(DurationError::Zero(text.to_owned()));
    }
    Ok(Duration::from_millis(total_ms))
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
            parse_duration("3 d"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("3d"),
            Err(DurationError::Unit { .. })
        ));
        assert!(matches!(parse_duration("0s"), Err(DurationError::Zero(_))));
        assert!(matches!(
            parse_duration("99999999999999999999h"),
            Err(DurationError::TooLong(_))
        ));
    }
}
