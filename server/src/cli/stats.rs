//! `agentls stats [--workspace DIR] [--since DURATION] [--json]`: calls,
//! tokens in and out, errors and p50/p95 latency per provider and model,
//! from the workspace's store. Answers without any collector.

use super::args::StatsArgs;
use super::workspace::CliWorkspace;
use super::Fail;
use crate::telemetry::stats;

pub fn run(args: StatsArgs) -> Result<u8, Fail> {
    let window = args
        .since
        .as_deref()
        .map(stats::parse_since)
        .transpose()
        .map_err(|e| Fail::usage(format!("--since: {e}")))?;
    let ws = CliWorkspace::open(args.ws.workspace.as_deref())?;
    let engine = ws.engine()?;
    let rows = engine
        .store()
        .model_stats(stats::since_ms(window))
        .map_err(|e| Fail::usage(e.to_string()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return Ok(0);
    }
    let scope = match &args.since {
        Some(since) => format!("in the last {since}"),
        None => "so far".into(),
    };
    if rows.is_empty() {
        println!("no model calls {scope} in {}", ws.root.display());
        return Ok(0);
    }
    println!("model calls {scope} in {}\n", ws.root.display());
    println!("{}", stats::table(&rows));
    Ok(0)
}
