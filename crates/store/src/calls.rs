//! Model calls: one row per provider call of a prompt step, written with
//! the step attempt's result, and the usage statistics read from them
//! (`agentls stats`, `agent.stats`).
//!
//! Provider and model names are opaque text here, as everywhere in the
//! store; an error is a short class, never a message (messages can quote
//! what a server sent back).

use std::collections::BTreeMap;

use rusqlite::params;
use serde::Serialize;

use crate::sql::{idx_sql, to_i64};
use crate::{ModelCall, RunId, Store, StoreError, WriteTx};

/// Calls, tokens, errors and latency of one provider and model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelStats {
    /// The provider name from the configuration.
    pub provider: String,
    /// The model that answered (the model asked for, for calls that failed).
    pub model: Option<String>,
    /// Calls made, failed ones included.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// Prompt tokens, summed over the calls that reported them.
    pub input_tokens: u64,
    /// Completion tokens, summed.
    pub output_tokens: u64,
    /// Prompt tokens served from the cache, summed.
    pub cached_tokens: u64,
    /// Median latency of the calls that answered, in milliseconds.
    pub p50_ms: Option<u64>,
    /// 95th percentile latency of the calls that answered (nearest rank).
    pub p95_ms: Option<u64>,
}

impl WriteTx<'_> {
    /// Records the model calls of step `idx`'s current attempt.
    pub fn record_model_calls(
        &mut self,
        run: &RunId,
        idx: usize,
        calls: &[ModelCall],
    ) -> Result<(), StoreError> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO model_calls (run_id, step_idx, attempt, provider, model, input_tokens, \
             output_tokens, cached_tokens, latency_ms, first_chunk_ms, error_type, at) \
             VALUES (?1, ?2, (SELECT attempt FROM steps WHERE run_id = ?1 AND idx = ?2), \
             ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for call in calls {
            insert.execute(params![
                run,
                idx_sql(idx),
                call.provider,
                call.model,
                to_i64(call.input_tokens),
                to_i64(call.output_tokens),
                to_i64(call.cached_tokens),
                to_i64(Some(call.latency_ms)),
                to_i64(call.first_chunk_ms),
                call.error_type,
                self.now,
            ])?;
        }
        Ok(())
    }
}

impl Store {
    /// Usage per provider and model of the calls made at or after
    /// `since_ms` (unix ms; `None`: all), sorted by provider then model.
    pub fn model_stats(&self, since_ms: Option<i64>) -> Result<Vec<ModelStats>, StoreError> {
        let rows: Vec<Row> = {
            let guard = self.lock();
            let mut select = guard.conn.prepare_cached(
                "SELECT provider, model, input_tokens, output_tokens, cached_tokens, \
                 latency_ms, error_type IS NOT NULL FROM model_calls WHERE at >= ?1",
            )?;
            let rows = select
                .query_map([since_ms.unwrap_or(i64::MIN)], |row| {
                    Ok(Row {
                        provider: row.get(0)?,
                        model: row.get(1)?,
                        input: row.get(2)?,
                        output: row.get(3)?,
                        cached: row.get(4)?,
                        latency: row.get(5)?,
                        failed: row.get(6)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            rows
        };
        // Aggregated here rather than in SQL: SQLite has no percentile
        // function, and exact percentiles need the sorted latencies anyway.
        let mut groups: BTreeMap<(String, Option<String>), (ModelStats, Vec<u64>)> =
            BTreeMap::new();
        for row in rows {
            let (stats, latencies) = groups
                .entry((row.provider.clone(), row.model.clone()))
                .or_insert_with(|| {
                    let stats = ModelStats {
                        provider: row.provider.clone(),
                        model: row.model.clone(),
                        ..ModelStats::default()
                    };
                    (stats, Vec::new())
                });
            stats.calls += 1;
            let count = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
            stats.input_tokens += count(row.input);
            stats.output_tokens += count(row.output);
            stats.cached_tokens += count(row.cached);
            if row.failed {
                stats.errors += 1;
            } else {
                latencies.push(u64::try_from(row.latency).unwrap_or(0));
            }
        }
        Ok(groups
            .into_values()
            .map(|(mut stats, mut latencies)| {
                latencies.sort_unstable();
                stats.p50_ms = percentile(&latencies, 50);
                stats.p95_ms = percentile(&latencies, 95);
                stats
            })
            .collect())
    }
}

struct Row {
    provider: String,
    model: Option<String>,
    input: Option<i64>,
    output: Option<i64>,
    cached: Option<i64>,
    latency: i64,
    failed: bool,
}

/// The nearest-rank percentile of sorted values: the smallest value with at
/// least `p`% of the values at or below it.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&values, 50), Some(10));
        assert_eq!(percentile(&values, 95), Some(19));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[3, 9], 50), Some(3));
        assert_eq!(percentile(&[], 50), None);
    }
}
