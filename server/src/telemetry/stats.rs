//! Usage statistics as `agentls stats` and `agent.stats` show them: calls,
//! tokens, errors and latency per provider and model, read from a
//! workspace's store (no collector needed), and the `--since` durations
//! they take.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentls_store::ModelStats;

use crate::lsp::protocol;
use crate::session::Session;

/// The units a look-back window takes: weeks and days make sense here
/// (humantime knows more: `y`, `min`, ...; the documented set stays the
/// accepted one).
const SINCE_UNITS: &[&str] = &["ms", "s", "m", "h", "d", "w"];

/// Parses a look-back window (`30m`, `24h`, `7d`, `2w`, `1h30m`):
/// humantime's grammar, as for every duration agentls reads, with this
/// site's rules: units [`SINCE_UNITS`], whole numbers.
pub fn parse_since(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "invalid duration {text:?}: write a number with a unit, e.g. \"30m\", \"24h\", \"7d\", \"2w\""
        )
    };
    let window = humantime::parse_duration(text.trim()).map_err(|_| bad())?;
    let mut units = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|unit| !unit.is_empty());
    if text.contains('.') || units.any(|unit| !SINCE_UNITS.contains(&unit)) {
        return Err(bad());
    }
    Ok(window)
}

/// The unix time in milliseconds `window` ago (`None`: since ever).
pub fn since_ms(window: Option<Duration>) -> Option<i64> {
    let window = window?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let then = now.saturating_sub(window);
    Some(i64::try_from(then.as_millis()).unwrap_or(i64::MAX))
}

/// One row as the editor command answers it.
fn model_stats(row: &ModelStats) -> protocol::ModelStats {
    protocol::ModelStats {
        provider: row.provider.clone(),
        model: row.model.clone(),
        calls: row.calls,
        errors: row.errors,
        input_tokens: row.input_tokens,
        output_tokens: row.output_tokens,
        cached_tokens: row.cached_tokens,
        p50_ms: row.p50_ms,
        p95_ms: row.p95_ms,
    }
}

/// One workspace's usage as `agent.stats` answers it: its root and a row
/// per provider and model.
pub fn workspace_stats(
    session: &Session,
    window: Option<Duration>,
) -> Result<protocol::WorkspaceStats, String> {
    let engine = session.engine()?;
    let rows = engine
        .store()
        .model_stats(since_ms(window))
        .map_err(|e| e.to_string())?;
    Ok(protocol::WorkspaceStats {
        root: session.root().map(|root| root.display().to_string()),
        models: rows.iter().map(model_stats).collect(),
    })
}

/// The rows as an aligned table, with a total line when there are several.
pub fn table(rows: &[ModelStats]) -> String {
    let mut lines = vec![[
        "provider".to_string(),
        "model".into(),
        "calls".into(),
        "errors".into(),
        "tokens in".into(),
        "tokens out".into(),
        "p50".into(),
        "p95".into(),
    ]];
    let latency = |ms: Option<u64>| {
        ms.map(|ms| format!("{ms} ms"))
            .unwrap_or_else(|| "-".into())
    };
    for row in rows {
        lines.push([
            row.provider.clone(),
            row.model.clone().unwrap_or_else(|| "-".into()),
            row.calls.to_string(),
            row.errors.to_string(),
            row.input_tokens.to_string(),
            row.output_tokens.to_string(),
            latency(row.p50_ms),
            latency(row.p95_ms),
        ]);
    }
    if rows.len() > 1 {
        let sum = |get: fn(&ModelStats) -> u64| rows.iter().map(get).sum::<u64>().to_string();
        lines.push([
            "total".into(),
            String::new(),
            sum(|r| r.calls),
            sum(|r| r.errors),
            sum(|r| r.input_tokens),
            sum(|r| r.output_tokens),
            String::new(),
            String::new(),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    lines
        .iter()
        .map(|cells| {
            cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    // Names left, numbers right.
                    if i < 2 {
                        format!("{cell:<w$}", w = widths[i])
                    } else {
                        format!("{cell:>w$}", w = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_units_and_combinations() {
        assert_eq!(parse_since("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_since("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_since("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_since("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_since("1d 12h"), Ok(Duration::from_secs(36 * 3600)));
        for bad in ["", "7", "d", "3y", "-1h", "1.5h", "2 days", "5min"] {
            let err = parse_since(bad).unwrap_err();
            assert!(err.contains("24h"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_table_aligns_columns_and_totals_several_rows() {
        let row = |provider: &str, calls, p50| ModelStats {
            provider: provider.into(),
            model: Some("m".into()),
            calls,
            errors: 0,
            input_tokens: 10,
            output_tokens: 5,
            cached_tokens: 0,
            p50_ms: p50,
            p95_ms: p50,
        };
        let text = table(&[row("claude", 12, Some(850)), row("gpt", 1, None)]);
        let expected = "\
provider  model  calls  errors  tokens in  tokens out     p50     p95
claude    m         12       0         10           5  850 ms  850 ms
gpt       m          1       0         10           5       -       -
total               13       0         20          10";
        assert_eq!(text, expected);
    }
}
