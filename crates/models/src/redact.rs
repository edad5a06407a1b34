//! Redacting secrets from text before it is kept: prompt and answer text a
//! telemetry layer records (only when the user opted in), and the error a
//! failed prompt step leaves in the store and the transcript.
//!
//! Two passes: every known secret (the session's provider keys and
//! configured header values, see [`Secrets`]) is replaced wherever it
//! occurs, then anything shaped like a well-known credential (API keys with
//! a vendor prefix, bearer tokens, PEM private keys) that a prompt may carry
//! from a file or a command's output.

use agentls_provider::Secrets;

/// What a redacted secret becomes.
const MASK: &str = "***";

/// Vendor key prefixes; a match needs at least [`MIN_TAIL`] key characters
/// after the prefix and no word character before it.
const PREFIXES: &[&str] = &[
    "sk-",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "AIza",
    "AKIA",
    "ASIA",
    "hf_",
    "Bearer ",
    "bearer ",
];

/// Key characters a prefix must be followed by to count as a key.
const MIN_TAIL: usize = 16;

/// `text` with every one of `secrets` (8 characters or more: shorter ones
/// would mask ordinary words) and every credential-shaped token replaced by
/// `***`.
pub fn redact(text: &str, secrets: &Secrets) -> String {
    redact_private_keys(&redact_prefixed(&secrets.redact(text)))
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

fn redact_prefixed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for prefix in PREFIXES {
            if !rest.starts_with(prefix) || ends_in_word(&out) {
                continue;
            }
            let tail = &rest[prefix.len()..];
            let len = tail.find(|c: char| !is_key_char(c)).unwrap_or(tail.len());
            if len >= MIN_TAIL {
                out.push_str(prefix);
                out.push_str(MASK);
                rest = &tail[len..];
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// Whether the text so far ends inside a word (so `task-…` is no `sk-` key).
fn ends_in_word(before: &str) -> bool {
    before
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn redact_private_keys(text: &str) -> String {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "-----END ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let header_end = rest[start..].find('\n').map(|i| start + i);
        let is_private = header_end.is_some_and(|end| rest[start..end].contains("PRIVATE KEY"));
        let Some(end) = rest[start..].find(END).filter(|_| is_private) else {
            out.push_str(&rest[..start + BEGIN.len()]);
            rest = &rest[start + BEGIN.len()..];
            continue;
        };
        let footer = start + end;
        let footer_end = rest[footer..]
            .find('\n')
            .map(|i| footer + i)
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        out.push_str("-----BEGIN PRIVATE KEY-----\n");
        out.push_str(MASK);
        out.push_str("\n-----END PRIVATE KEY-----");
        rest = &rest[footer_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use agentls_provider::{Secret, Secrets};

    use super::redact;

    fn none() -> Secrets {
        Secrets::default()
    }

    #[test]
    fn known_secrets_are_masked_wherever_they_occur() {
        let secrets: Secrets = ["hunter2-but-longer", "short"]
            .into_iter()
            .map(Secret::new)
            .collect();
        assert_eq!(
            redact("a hunter2-but-longer b hunter2-but-longer short", &secrets),
            "a *** b *** short"
        );
    }

    #[test]
    fn credential_shaped_tokens_are_masked() {
        let text = "key sk-ant-api03-abcdefghijklmnop, gh ghp_ABCDEFGHIJKLMNOPQRSTUV \
                    aws AKIAIOSFODNN7EXAMPLE auth: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig";
        assert_eq!(
            redact(text, &none()),
            "key sk-***, gh ghp_*** aws AKIA*** auth: Bearer ***"
        );
    }

    #[test]
    fn ordinary_words_that_contain_a_prefix_are_kept() {
        let text = "a task-runner-with-a-long-name, sk-short, the risk-assessment-document";
        assert_eq!(redact(text, &none()), text);
    }

    #[test]
    fn pem_private_keys_are_masked_and_certificates_kept() {
        let text =
            "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\ny\n\
                    -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(
            redact(text, &none()),
            "x\n-----BEGIN PRIVATE KEY-----\n***\n-----END PRIVATE KEY-----\ny\n\
             -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        );
    }

    #[test]
    fn non_ascii_text_survives() {
        assert_eq!(redact("héllo 🦀 sk-", &none()), "héllo 🦀 sk-");
    }
}
