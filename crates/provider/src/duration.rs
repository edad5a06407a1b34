//! [`ConfigDuration`]: durations in configuration files, written `"30s"`,
//! `"250ms"`, `"2m"`, `"1h"` or `"1m30s"`, or as a bare number of seconds.
//! The grammar is humantime's, as for every duration agentls reads; the
//! rules of this site are in [`ConfigDuration::parse`].

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration read from configuration. Millisecond values exist so tests can
/// make retries and timeouts fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfigDuration(pub Duration);

impl ConfigDuration {
    /// `n` seconds.
    pub fn secs(n: u64) -> Self {
        ConfigDuration(Duration::from_secs(n))
    }

    /// `n` milliseconds.
    pub fn millis(n: u64) -> Self {
        ConfigDuration(Duration::from_millis(n))
    }

    /// Parses `"30s"`, `"250ms"`, `"2m"`, `"1h"`, `"1m30s"`, `"1m 30s"`:
    /// humantime's grammar, with the rules of configuration durations:
    /// units [`UNITS`], whole numbers; zero is allowed (a timeout of zero
    /// means no limit).
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!("invalid duration {text:?}: write a number with a unit, e.g. \"30s\", \"500ms\", \"2m\", \"1h\"")
        };
        let parsed = humantime::parse_duration(text.trim()).map_err(|_| invalid())?;
        let mut units = text
            .split(|c: char| !c.is_alphabetic())
            .filter(|unit| !unit.is_empty());
        if text.contains('.') || units.any(|unit| !UNITS.contains(&unit)) {
            return Err(invalid());
        }
        Ok(ConfigDuration(parsed))
    }
}

/// The units configuration durations take (humantime knows more: `d`,
/// `min`, `seconds`, ...; the documented set stays the accepted one).
const UNITS: &[&str] = &["ms", "s", "m", "h"];

impl From<ConfigDuration> for Duration {
    fn from(value: ConfigDuration) -> Self {
        value.0
    }
}

impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms % 1000 != 0 {
            write!(f, "{ms}ms")
        } else {
            write!(f, "{}s", ms / 1000)
        }
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Seconds(n) => Ok(ConfigDuration::secs(n)),
            Raw::Text(text) => ConfigDuration::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        let ms = |n| Ok(ConfigDuration::millis(n));
        assert_eq!(ConfigDuration::parse("250ms"), ms(250));
        assert_eq!(ConfigDuration::parse("30s"), ms(30_000));
        assert_eq!(ConfigDuration::parse("2m"), ms(120_000));
        assert_eq!(ConfigDuration::parse("1h"), ms(3_600_000));
        assert_eq!(ConfigDuration::parse("1m 30s"), ms(90_000));
        assert_eq!(ConfigDuration::parse(" 0s "), ms(0));
        assert_eq!(ConfigDuration::parse("1h 1m 1s 1ms"), ms(3_661_001));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in ["", "30", "s", "10 seconds", "-1s", "1.5s", "3d"] {
            let err = ConfigDuration::parse(bad).unwrap_err();
            assert!(err.contains("invalid duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["250ms", "30s", "1500ms"] {
            let parsed = ConfigDuration::parse(text).unwrap();
            assert_eq!(parsed.to_string(), text);
        }
    }
}
