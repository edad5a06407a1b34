//! Run ids: 12 characters of lowercase Crockford base32, the first nine the
//! creation time in unix milliseconds and the last three a random counter.
//! Ids therefore sort by creation time as plain strings, stay short enough to
//! type, and a unique prefix names a run (like a git hash).

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Digits in value order; ASCII order is the same, so string order is
/// numeric order. No i, l, o, u: they are easily confused when typed.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const TIME_CHARS: usize = 9;
const SUFFIX_CHARS: usize = 3;
const SUFFIX_SPACE: u64 = 1 << (5 * SUFFIX_CHARS);
/// The largest millisecond value that fits in the time part (year ~3084).
const MAX_MS: u64 = (1 << (5 * TIME_CHARS)) - 1;

/// The id of a run: 12 characters, sortable by creation time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    /// The number of characters of a full id.
    pub const LEN: usize = TIME_CHARS + SUFFIX_CHARS;

    /// Parses a full run id (use `Store::resolve_run` for prefixes).
    /// Upper case is accepted and folded, so ids survive being retyped.
    pub fn parse(text: &str) -> Result<RunId, StoreError> {
        let normalised = normalise_prefix(text)?;
        if normalised.len() != Self::LEN {
            return Err(StoreError::InvalidRunId(text.to_owned()));
        }
        Ok(RunId(normalised))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The creation time encoded in the id, in unix milliseconds.
    pub fn created_ms(&self) -> u64 {
        decode(&self.0.as_bytes()[..TIME_CHARS])
    }

    fn from_parts(ms: u64, suffix: u64) -> RunId {
        let mut text = encode(ms.min(MAX_MS), TIME_CHARS);
        text.push_str(&encode(suffix % SUFFIX_SPACE, SUFFIX_CHARS));
        RunId(text)
    }
}

/// Checks that `text` could start a run id and returns it in lower case.
pub(crate) fn normalise_prefix(text: &str) -> Result<String, StoreError> {
    let lower = text.trim().to_ascii_lowercase();
    let valid = !lower.is_empty()
        && lower.len() <= RunId::LEN
        && lower.bytes().all(|b| ALPHABET.contains(&b));
    if valid {
        Ok(lower)
    } else {
        Err(StoreError::InvalidRunId(text.to_owned()))
    }
}

fn encode(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    // Every byte comes from ALPHABET, which is ASCII.
    digits.into_iter().map(char::from).collect()
}

fn decode(digits: &[u8]) -> u64 {
    digits.iter().fold(0, |acc, d| {
        let value = ALPHABET.iter().position(|a| a == d).unwrap_or(0) as u64;
        (acc << 5) | value
    })
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RunId {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunId::parse(s)
    }
}

impl TryFrom<String> for RunId {
    type Error = StoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RunId::parse(&value)
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> String {
        id.0
    }
}

impl AsRef<str> for RunId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Hands out run ids that strictly increase for one store, even when several
/// runs start in the same millisecond or the clock steps back: the suffix
/// counts up from a random start, and the time part carries on overflow.
#[derive(Debug, Default)]
pub(crate) struct IdGen {
    last: Option<(u64, u64)>,
}

impl IdGen {
    pub(crate) fn next(&mut self, now_ms: u64) -> RunId {
        let (ms, suffix) = match self.last {
            Some((last_ms, last_suffix)) if now_ms <= last_ms => {
                if last_suffix + 1 < SUFFIX_SPACE {
                    (last_ms, last_suffix + 1)
                } else {
                    (last_ms + 1, random_start())
                }
            }
            _ => (now_ms, random_start()),
        };
        self.last = Some((ms, suffix));
        RunId::from_parts(ms, suffix)
    }
}

/// A random suffix start, leaving room to count up within one millisecond.
/// std's `RandomState` is seeded from the OS per thread and varies per call,
/// which is all the randomness two processes sharing a database need to
/// rarely collide (and a collision is retried by the store).
fn random_start() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    hasher.finish() % (SUFFIX_SPACE / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twelve_typeable_characters_that_encode_their_time() {
        let mut ids = IdGen::default();
        let id = ids.next(1_700_000_000_123);
        assert_eq!(id.as_str().len(), RunId::LEN);
        assert!(id
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        assert_eq!(id.created_ms(), 1_700_000_000_123);
    }

    #[test]
    fn ids_increase_within_a_millisecond_and_when_the_clock_steps_back() {
        let mut ids = IdGen::default();
        let mut previous = ids.next(1_000);
        for now in [1_000, 1_000, 999, 5, 1_001, 1_001, 2_000] {
            let next = ids.next(now);
            assert!(next > previous, "{next} after {previous}");
            previous = next;
        }
    }

    #[test]
    fn suffix_overflow_carries_into_the_time_part() {
        let mut ids = IdGen {
            last: Some((7, SUFFIX_SPACE - 1)),
        };
        let id = ids.next(7);
        assert_eq!(id.created_ms(), 8);
        assert!(id > RunId::from_parts(7, SUFFIX_SPACE - 1));
    }

    #[test]
    fn string_order_is_time_order() {
        let early = RunId::from_parts(31, SUFFIX_SPACE - 1);
        let late = RunId::from_parts(32, 0);
        assert!(early.as_str() < late.as_str());
    }

    #[test]
    fn parse_accepts_full_ids_in_any_case_and_rejects_the_rest() {
        let id = RunId::from_parts(1_700_000_000_000, 42);
        assert_eq!(RunId::parse(&id.as_str().to_uppercase()).unwrap(), id);
        for bad in ["", "abc", "0123456789abc", "0123456789ai", "01234567 9ab"] {
            assert!(
                matches!(RunId::parse(bad), Err(StoreError::InvalidRunId(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let id = RunId::from_parts(1_700_000_000_000, 42);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<RunId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<RunId>("\"not-an-id\"").is_err());
    }
}
