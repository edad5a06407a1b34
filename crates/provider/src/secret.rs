//! [`Secret`]: an API key that cannot be printed by accident.
//!
//! Owns the only way to read a key's value ([`Secret::expose`]), meant for
//! building the one request header that carries it. Debug and Display print
//! `***`, so a key never reaches logs, traces, error messages or the store
//! through formatting.

use std::fmt;

/// An API key (or any credential) whose Debug and Display print `***`.
///
/// Deliberately not `Serialize`: a key has no business in a file written by
/// agentls (config dumps, cassettes, the store).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a key value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The key itself. Call only where it goes on the wire (a request header),
    /// never into a message, a log line or a file.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Removes every occurrence of the key from `text`, for messages built
    /// from what a server sent back (a proxy may echo request headers).
    pub fn redact(&self, text: &str) -> String {
        // Short values would redact ordinary words; real keys are long.
        if self.0.len() < 8 {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let key = Secret::new("sk-ant-very-secret-value");
        assert_eq!(format!("{key:?}"), "***");
        assert_eq!(format!("{key}"), "***");
        assert_eq!(format!("{:?}", Some(&key)), "Some(***)");
        assert_eq!(key.expose(), "sk-ant-very-secret-value");
    }

    #[test]
    fn redact_removes_every_occurrence() {
        let key = Secret::new("sk-0123456789");
        assert_eq!(
            key.redact("bad key sk-0123456789, again sk-0123456789"),
            "bad key ***, again ***"
        );
    }
}
