//! When and how long to wait before trying a request again.
//!
//! Owns the retryable statuses, `retry-after` parsing (seconds, HTTP date,
//! and OpenAI's `retry-after-ms`) and exponential backoff with jitter. The
//! jitter source is a per-provider xorshift generator: no global state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

use crate::RetryPolicy;

/// Statuses worth another try: rate limited (429), server trouble (500,
/// 502, 503, 504) and Anthropic's "overloaded" (529).
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504 | 529)
}

/// How long the server asks us to wait, from `retry-after-ms` (OpenAI) or
/// `retry-after` (delta seconds or an HTTP date, RFC 9110 §10.2.3). A date in
/// the past means "now".
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A tiny xorshift64* generator for backoff jitter, seeded from the clock.
/// Jitter needs spread, not unpredictability.
pub(crate) struct Jitter(AtomicU64);

impl Jitter {
    pub(crate) fn from_clock() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        // Never zero: xorshift would stay at zero forever.
        Jitter(AtomicU64::new(nanos | 1))
    }

    /// A number in [0, 1).
    fn next_unit(&self) -> f64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.store(x, Ordering::Relaxed);
        let out = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (out >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The wait before retry number `retry` (1 for the first retry).
///
/// With a `retry-after`, exactly that; `Err` with the asked wait when it is
/// over the policy's cap (the caller fails instead of hanging). Without,
/// `base * 2^(retry-1)` capped at `max_delay`, then "equal jitter": a
/// uniform pick in [half, whole], so clients that failed together spread out
/// but never retry at once.
pub(crate) fn delay(
    policy: &RetryPolicy,
    retry: u32,
    retry_after: Option<Duration>,
    jitter: &Jitter,
) -> Result<Duration, Duration> {
    if let Some(asked) = retry_after {
        return if asked > policy.max_delay {
            Err(asked)
        } else {
            Ok(asked)
        };
    }
    let factor = 2u32.saturating_pow(retry.saturating_sub(1));
    let full = policy
        .base_delay
        .saturating_mul(factor)
        .min(policy.max_delay);
    let half = full / 2;
    Ok(half + full.saturating_sub(half).mul_f64(jitter.next_unit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn retry_after_in_seconds_milliseconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers("retry-after", "7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers("retry-after-ms", "250"), now),
            Some(Duration::from_millis(250))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            retry_after(&headers("retry-after", &later), now),
            Some(Duration::from_secs(12))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(
            retry_after(&headers("retry-after", &earlier), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("retry-after", "soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_within_the_cap_with_jitter() {
        let policy = RetryPolicy {
            retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        let jitter = Jitter::from_clock();
        for _ in 0..100 {
            let first = delay(&policy, 1, None, &jitter).unwrap();
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = delay(&policy, 3, None, &jitter).unwrap();
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let tenth = delay(&policy, 10, None, &jitter).unwrap();
            assert!(tenth >= Duration::from_millis(250) && tenth <= Duration::from_millis(500));
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy {
            retries: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_secs(10),
        };
        let jitter = Jitter::from_clock();
        let asked = Some(Duration::from_secs(4));
        assert_eq!(
            delay(&policy, 1, asked, &jitter),
            Ok(Duration::from_secs(4))
        );
        let too_long = Some(Duration::from_secs(60));
        assert_eq!(
            delay(&policy, 1, too_long, &jitter),
            Err(Duration::from_secs(60))
        );
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for status in [429, 500, 502, 503, 504, 529] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 413, 501] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }
}
