//! Conversions between the run model and SQLite values, and the row readers
//! shared by the store's queries. Only this file knows column positions.

use std::path::PathBuf;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Row, ToSql};
use serde_json::Value;

use crate::{
    RunId, RunRecord, RunStatus, RunSummary, StepRecord, StepStatus, Usage, WorkflowSource,
};

fn from_name<T>(value: ValueRef<'_>) -> FromSqlResult<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value
        .as_str()?
        .parse()
        .map_err(|err| FromSqlError::Other(Box::new(err)))
}

macro_rules! sql_as_name {
    ($($ty:ty),*) => {$(
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                from_name(value)
            }
        }
    )*};
}

sql_as_name!(RunStatus, StepStatus, WorkflowSource);

impl ToSql for RunId {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for RunId {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        from_name(value)
    }
}

/// JSON kept as TEXT; NULL reads as `None`.
pub(crate) fn json(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Value>> {
    let Some(text) = row.get::<_, Option<String>>(idx)? else {
        return Ok(None);
    };
    serde_json::from_str(&text).map(Some).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(err))
    })
}

/// Counters are u64 in the model; SQLite integers are i64. Real token counts
/// are nowhere near the limit, so saturating is exact in practice.
pub(crate) fn to_i64(value: Option<u64>) -> Option<i64> {
    value.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

fn to_u64(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok())
}

/// A step index as SQLite stores it; an absurd index simply finds no row.
pub(crate) fn idx_sql(idx: usize) -> i64 {
    i64::try_from(idx).unwrap_or(i64::MAX)
}

pub(crate) const RUN_COLUMNS: &str = "id, workflow_name, workflow_source, workflow_path, \
     workflow_content, content_hash, params, inputs, status, error, created_at, updated_at, \
     finished_at";

/// Reads a row selected with `RUN_COLUMNS`; the steps are filled in later.
pub(crate) fn run_record(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        workflow_name: row.get(1)?,
        workflow_source: row.get(2)?,
        workflow_path: row.get::<_, Option<String>>(3)?.map(PathBuf::from),
        workflow_content: row.get(4)?,
        content_hash: row.get(5)?,
        params: json(row, 6)?.unwrap_or(Value::Null),
        inputs: json(row, 7)?.unwrap_or(Value::Null),
        status: row.get(8)?,
        error: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
        finished_at: row.get(12)?,
        steps: Vec::new(),
    })
}

/// Everything but the output text itself, which can be megabytes.
pub(crate) const STEP_COLUMNS: &str = "idx, step_id, kind, status, attempt, exit_code, \
     octet_length(output), output_truncated, outputs, error, started_at, finished_at, \
     input_tokens, output_tokens, cached_tokens, provider, model, latency_ms";

pub(crate) fn step_record(row: &Row<'_>) -> rusqlite::Result<StepRecord> {
    Ok(StepRecord {
        idx: row.get::<_, i64>(0)?.try_into().unwrap_or(usize::MAX),
        step_id: row.get(1)?,
        kind: row.get(2)?,
        status: row.get(3)?,
        attempt: row.get(4)?,
        exit_code: row.get(5)?,
        output_len: to_u64(row.get(6)?).unwrap_or(0),
        output_truncated: row.get(7)?,
        outputs: json(row, 8)?,
        error: row.get(9)?,
        started_at: row.get(10)?,
        finished_at: row.get(11)?,
        usage: Usage {
            input_tokens: to_u64(row.get(12)?),
            output_tokens: to_u64(row.get(13)?),
            cached_tokens: to_u64(row.get(14)?),
            provider: row.get(15)?,
            model: row.get(16)?,
            latency_ms: to_u64(row.get(17)?),
        },
    })
}

pub(crate) const SUMMARY_SELECT: &str = "SELECT r.id, r.workflow_name, r.workflow_source, \
     r.status, r.error, r.created_at, r.updated_at, r.finished_at, \
     (SELECT count(*) FROM steps s WHERE s.run_id = r.id), \
     (SELECT count(*) FROM steps s WHERE s.run_id = r.id \
        AND s.status IN ('completed', 'skipped')) \
     FROM runs r";

pub(crate) fn run_summary(row: &Row<'_>) -> rusqlite::Result<RunSummary> {
    Ok(RunSummary {
        id: row.get(0)?,
        workflow_name: row.get(1)?,
        workflow_source: row.get(2)?,
        status: row.get(3)?,
        error: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        finished_at: row.get(7)?,
        steps_total: row.get(8)?,
        steps_done: row.get(9)?,
    })
}
