//! [`Secret`]: an API key that cannot be printed by accident, and
//! [`Secrets`]: every credential of a provider (its key and each configured
//! header value), redacted together from text a server sent back.
//!
//! Owns the only way to read a key's value ([`Secret::expose`]), meant for
//! building the one request header that carries it. Debug and Display print
//! `***`, so a key never reaches logs, traces, error messages or the store
//! through formatting.

use std::collections::BTreeMap;
use std::fmt;

/// Values shorter than this are never redacted: they would mask ordinary
/// words, and real credentials are longer.
const MIN_SECRET_LEN: usize = 8;

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
        if self.0.len() < MIN_SECRET_LEN {
            return text.to_string();
        }
        text.replace(&self.0, "***")
    }
}

/// The credentials of one provider, or of a whole session: what no message
/// built from a server's answer may contain. A provider's are its key and
/// the value of every `headers` entry (documented as secrets like keys; an
/// error body may echo the request's headers).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<Secret>);

impl Secrets {
    /// A provider's secrets: `key` (if any) and every header value.
    pub fn of_provider(key: Option<&Secret>, headers: &BTreeMap<String, String>) -> Secrets {
        let mut secrets = Secrets::default();
        if let Some(key) = key {
            secrets.add(key.clone());
        }
        secrets.add_header_values(headers);
        secrets
    }

    /// Adds one secret (values shorter than 8 bytes are ignored).
    pub fn add(&mut self, secret: Secret) {
        if secret.0.len() >= MIN_SECRET_LEN && !self.0.contains(&secret) {
            self.0.push(secret);
            // Longest first: a value that contains another is masked whole.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        }
    }

    /// Adds every header value, and for `Scheme credentials` values (such
    /// as `Bearer TOKEN`) the credentials alone too, since a server may
    /// echo just the token.
    pub fn add_header_values(&mut self, headers: &BTreeMap<String, String>) {
        for value in headers.values() {
            let value = value.trim();
            self.add(Secret::new(value));
            if let Some((scheme, credentials)) = value.split_once(' ') {
                if scheme.chars().all(|c| c.is_ascii_alphabetic()) {
                    self.add(Secret::new(credentials.trim()));
                }
            }
        }
    }

    /// Adds every secret of `other`.
    pub fn extend(&mut self, other: Secrets) {
        for secret in other.0 {
            self.add(secret);
        }
    }

    /// Whether any secret occurs in `text`.
    pub fn occurs_in(&self, text: &str) -> bool {
        self.0.iter().any(|secret| text.contains(&secret.0))
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with every occurrence of every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.0 {
            if out.contains(&secret.0) {
                out = secret.redact(&out);
            }
        }
        out
    }
}

impl FromIterator<Secret> for Secrets {
    fn from_iter<I: IntoIterator<Item = Secret>>(iter: I) -> Self {
        let mut secrets = Secrets::default();
        for secret in iter {
            secrets.add(secret);
        }
        secrets
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} hidden)", self.0.len())
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
    fn a_providers_secrets_are_its_key_and_every_header_value() {
        let headers = BTreeMap::from([
            (
                "authorization".to_string(),
                "Bearer tok-0123456789".to_string(),
            ),
            ("x-proxy-token".to_string(), " proxy-secret-42 ".to_string()),
            ("x-team".to_string(), "blue".to_string()),
        ]);
        let key = Secret::new("sk-0123456789");
        let secrets = Secrets::of_provider(Some(&key), &headers);
        assert_eq!(format!("{secrets:?}"), "Secrets(4 hidden)");
        assert_eq!(
            secrets.redact(
                "got Bearer tok-0123456789 and tok-0123456789, proxy-secret-42, \
                 sk-0123456789, team blue"
            ),
            "got *** and ***, ***, ***, team blue"
        );
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
