//! Measures what the store adds per workflow step, in two shapes: two
//! durable commits per step (start it; record its result with the run's next
//! status), and one (record a step's result and start the next step in the
//! same `Store::write`). Run with
//! `cargo run --release -p agentls-store --example commit_latency [dir] [steps]`;
//! the directory should be on the disk the state directory lives on.

use std::time::{Duration, Instant};

use agentls_store::{
    NewRun, NewStep, RunStatus, StepResult, StepStatus, Store, StoreError, WorkflowSource,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = match args.next() {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let steps: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(500);
    let store = Store::open(&dir.path().join("agentls.db"))?;
    let output = "test result: ok. 12 passed\n".repeat(40);
    let result = StepResult::new(StepStatus::Completed, output.as_str());

    let run = running_run(&store, steps)?;
    let mut per_step = Vec::with_capacity(steps);
    for idx in 0..steps {
        let started = Instant::now();
        store.start_step(&run, idx)?;
        let next = (idx + 1 == steps).then_some((RunStatus::Completed, None));
        store.commit_step(&run, idx, &result, next)?;
        per_step.push(started.elapsed());
    }
    report("two commits per step", per_step);

    let run = running_run(&store, steps)?;
    store.start_step(&run, 0)?;
    let mut per_step = Vec::with_capacity(steps);
    for idx in 0..steps {
        let started = Instant::now();
        store.write(|tx| {
            tx.finish_step(&run, idx, &result)?;
            if idx + 1 < steps {
                tx.start_step(&run, idx + 1)
            } else {
                tx.set_run_status(&run, RunStatus::Completed, None)
            }
        })?;
        per_step.push(started.elapsed());
    }
    report("one commit per step (finish + start next)", per_step);
    Ok(())
}

fn running_run(store: &Store, steps: usize) -> Result<agentls_store::RunId, StoreError> {
    let run = store.create_run(&NewRun {
        workflow_name: "bench".into(),
        workflow_source: WorkflowSource::Builtin,
        workflow_path: None,
        workflow_content: String::new(),
        content_hash: "bench".into(),
        params: serde_json::Value::Null,
        inputs: serde_json::Value::Null,
        steps: (0..steps)
            .map(|i| NewStep::new(format!("s{i}"), "run"))
            .collect(),
        owner: None,
    })?;
    store.set_run_status(&run, RunStatus::Running, None)?;
    Ok(run)
}

fn report(shape: &str, mut per_step: Vec<Duration>) {
    per_step.sort();
    let pct = |p: usize| per_step[(per_step.len() - 1) * p / 100];
    println!(
        "{shape}, {} steps: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        per_step.len(),
        pct(50),
        pct(90),
        pct(99),
        pct(100)
    );
}
