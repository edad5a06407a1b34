//! `WriteTx`: every change to runs and steps, inside one SQLite write
//! transaction. Each change checks the status transition first, so an illegal
//! one is refused before anything is written; when the closure given to
//! `Store::write` returns an error, the whole transaction rolls back.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension, Transaction};

use crate::id::IdGen;
use crate::sql::{idx_sql, to_i64};
use crate::{NewRun, RunId, RunStatus, StepResult, StepStatus, StoreError};

/// How often `create_run` draws a new id after a collision with a run another
/// process created in the same millisecond. Collisions need the same random
/// suffix, so one retry is already rare.
const ID_ATTEMPTS: usize = 8;

/// An open write transaction; see `Store::write`.
pub struct WriteTx<'a> {
    pub(crate) tx: Transaction<'a>,
    pub(crate) ids: &'a mut IdGen,
    /// One timestamp for everything in the transaction: it commits at once.
    pub(crate) now: i64,
}

impl WriteTx<'_> {
    /// Creates a run in `queued` with all its steps `pending`.
    pub fn create_run(&mut self, new: &NewRun) -> Result<RunId, StoreError> {
        let mut seen = HashSet::new();
        if let Some(dup) = new.steps.iter().find(|step| !seen.insert(&step.id)) {
            return Err(StoreError::DuplicateStep(dup.id.clone()));
        }
        let params = serde_json::to_string(&new.params)?;
        let inputs = serde_json::to_string(&new.inputs)?;
        let path = new
            .workflow_path
            .as_ref()
            .map(|path| path.to_string_lossy().into_owned());
        let mut insert_run = self.tx.prepare_cached(
            "INSERT INTO runs (id, workflow_name, workflow_source, workflow_path, \
             workflow_content, content_hash, params, inputs, status, created_at, updated_at, owner) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)",
        )?;
        let mut attempt = 1;
        let id = loop {
            let id = self.ids.next(u64::try_from(self.now).unwrap_or(0));
            let inserted = insert_run.execute(params![
                id,
                new.workflow_name,
                new.workflow_source,
                path,
                new.workflow_content,
                new.content_hash,
                params,
                inputs,
                RunStatus::Queued,
                self.now,
                new.owner,
            ]);
            match inserted {
                Ok(_) => break id,
                Err(err) if is_primary_key_clash(&err) && attempt < ID_ATTEMPTS => attempt += 1,
                Err(err) => return Err(err.into()),
            }
        };
        let mut insert_step = self.tx.prepare_cached(
            "INSERT INTO steps (run_id, idx, step_id, kind, status) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (idx, step) in new.steps.iter().enumerate() {
            insert_step.execute(params![
                id,
                idx_sql(idx),
                step.id,
                step.kind,
                StepStatus::Pending
            ])?;
        }
        Ok(id)
    }

    /// The run's current status.
    pub fn run_status(&self, run: &RunId) -> Result<RunStatus, StoreError> {
        self.tx
            .prepare_cached("SELECT status FROM runs WHERE id = ?1")?
            .query_row([run], |row| row.get(0))
            .optional()?
            .ok_or_else(|| StoreError::UnknownRun(run.to_string()))
    }

    /// Moves the run to `status`, recording `error` (`None` clears it).
    /// Terminal statuses also set `finished_at`.
    pub fn set_run_status(
        &mut self,
        run: &RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let from = self.run_status(run)?;
        if !from.can_become(status) {
            return Err(StoreError::IllegalRunTransition {
                run: run.clone(),
                from,
                to: status,
            });
        }
        let finished_at = status.is_terminal().then_some(self.now);
        self.tx
            .prepare_cached(
                "UPDATE runs SET status = ?2, error = ?3, updated_at = ?4, finished_at = ?5 \
                 WHERE id = ?1",
            )?
            .execute(params![run, status, error, self.now, finished_at])?;
        Ok(())
    }

    /// The step's id and current status.
    pub fn step_status(&self, run: &RunId, idx: usize) -> Result<(String, StepStatus), StoreError> {
        let found = self
            .tx
            .prepare_cached("SELECT step_id, status FROM steps WHERE run_id = ?1 AND idx = ?2")?
            .query_row(params![run, idx_sql(idx)], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        match found {
            Some(found) => Ok(found),
            None => {
                self.run_status(run)?;
                Err(StoreError::UnknownStep {
                    run: run.clone(),
                    step: format!("#{idx}"),
                })
            }
        }
    }

    /// Checks the step transition and returns the step's current status.
    fn check_step(
        &self,
        run: &RunId,
        idx: usize,
        to: StepStatus,
    ) -> Result<StepStatus, StoreError> {
        let (step, from) = self.step_status(run, idx)?;
        if from.can_become(to) {
            Ok(from)
        } else {
            Err(StoreError::IllegalStepTransition {
                run: run.clone(),
                step,
                from,
                to,
            })
        }
    }

    /// Starts an attempt of the step: `running`, attempt count up, and the
    /// previous attempt's result cleared (it describes an attempt that is over).
    pub fn start_step(&mut self, run: &RunId, idx: usize) -> Result<(), StoreError> {
        self.check_step(run, idx, StepStatus::Running)?;
        self.tx
            .prepare_cached(
                "UPDATE steps SET status = ?3, attempt = attempt + 1, started_at = ?4, \
                 finished_at = NULL, exit_code = NULL, output = '', output_truncated = 0, \
                 outputs = NULL, error = NULL, input_tokens = NULL, output_tokens = NULL, \
                 cached_tokens = NULL, provider = NULL, model = NULL, latency_ms = NULL \
                 WHERE run_id = ?1 AND idx = ?2",
            )?
            .execute(params![run, idx_sql(idx), StepStatus::Running, self.now])?;
        Ok(())
    }

    /// Records the result of the step's attempt (or a hand-written override)
    /// and moves the step to `result.status`.
    pub fn finish_step(
        &mut self,
        run: &RunId,
        idx: usize,
        result: &StepResult,
    ) -> Result<(), StoreError> {
        self.check_step(run, idx, result.status)?;
        let outputs = result
            .outputs
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        let usage = &result.usage;
        self.tx
            .prepare_cached(
                "UPDATE steps SET status = ?3, exit_code = ?4, output = ?5, \
                 output_truncated = ?6, outputs = ?7, error = ?8, finished_at = ?9, \
                 input_tokens = ?10, output_tokens = ?11, cached_tokens = ?12, \
                 provider = ?13, model = ?14, latency_ms = ?15 \
                 WHERE run_id = ?1 AND idx = ?2",
            )?
            .execute(params![
                run,
                idx_sql(idx),
                result.status,
                result.exit_code,
                result.output,
                result.output_truncated,
                outputs,
                result.error,
                self.now,
                to_i64(usage.input_tokens),
                to_i64(usage.output_tokens),
                to_i64(usage.cached_tokens),
                usage.provider,
                usage.model,
                to_i64(usage.latency_ms),
            ])?;
        self.record_model_calls(run, idx, &result.model_calls)
    }

    /// Moves the step to `status` without touching its output, recording
    /// `error` (`None` clears it): for skips, approvals, cancellation and
    /// the crash reset. `running` goes through `start_step` (and ignores
    /// `error`), so an attempt is always counted.
    pub fn set_step_status(
        &mut self,
        run: &RunId,
        idx: usize,
        status: StepStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        if status == StepStatus::Running {
            return self.start_step(run, idx);
        }
        self.check_step(run, idx, status)?;
        // Pending means "not run yet": no start or finish time. Waiting has
        // started and not finished; the rest have finished now.
        let finished_at = match status {
            StepStatus::Pending | StepStatus::Waiting => None,
            _ => Some(self.now),
        };
        self.tx
            .prepare_cached(
                "UPDATE steps SET status = ?3, error = ?4, finished_at = ?5, \
                 started_at = CASE WHEN ?3 = 'pending' THEN NULL ELSE started_at END \
                 WHERE run_id = ?1 AND idx = ?2",
            )?
            .execute(params![run, idx_sql(idx), status, error, finished_at])?;
        Ok(())
    }

    /// Records which process drives `run` from now on.
    pub fn set_owner(&mut self, run: &RunId, owner: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE runs SET owner = ?2 WHERE id = ?1")?
            .execute(params![run, owner])?;
        Ok(())
    }

    /// Marks runs found `running` (or still `queued`) at start-up as
    /// `interrupted` and resets their `running` steps to `pending`.
    /// `orphaned` says whether a run has no live process driving it (another
    /// agentls process may be driving it right now: leave those alone).
    pub fn recover_interrupted(
        &mut self,
        orphaned: &mut dyn FnMut(&RunId, Option<&str>) -> bool,
    ) -> Result<Vec<RunId>, StoreError> {
        let runs: Vec<(RunId, Option<String>)> = self
            .tx
            .prepare_cached(
                "SELECT id, owner FROM runs WHERE status IN ('running', 'queued') ORDER BY id",
            )?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let runs: Vec<RunId> = runs
            .into_iter()
            .filter(|(run, owner)| orphaned(run, owner.as_deref()))
            .map(|(run, _)| run)
            .collect();
        for run in &runs {
            // A `waiting` step of a `running` run waited inside its drive
            // (an ACP agent's question): the question died with the drive.
            let running: Vec<usize> = self
                .tx
                .prepare_cached(
                    "SELECT idx FROM steps WHERE run_id = ?1 AND status IN ('running', 'waiting') \
                     ORDER BY idx",
                )?
                .query_map([run], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            for idx in running {
                self.set_step_status(run, idx, StepStatus::Pending, None)?;
            }
            self.set_run_status(
                run,
                RunStatus::Interrupted,
                Some("agentls stopped while this run was in progress; resume it to continue"),
            )?;
        }
        Ok(runs)
    }
}

fn is_primary_key_clash(err: &rusqlite::Error) -> bool {
    matches!(
        err,
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}
