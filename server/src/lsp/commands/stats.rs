//! `agent.stats {uri?, since?}`: model usage from the store: calls, tokens
//! in and out, errors and p50/p95 latency per provider and model, for the
//! workspace owning `uri` (no uri: every workspace folder), over the
//! window `since` (`"24h"`, `"7d"`; default: everything recorded). Each
//! workspace's numbers come from its own store only.
//!
//! Answer: `{since, workspaces: [{root, models: [{provider, model, calls,
//! errors, inputTokens, outputTokens, cachedTokens, p50Ms, p95Ms}]}]}`.

use tower_lsp_server::jsonrpc::{Error, Result};

use crate::lsp::errors::internal;
use crate::lsp::protocol::{StatsArgs, StatsResult};
use crate::lsp::server::State;
use crate::lsp::surface;
use crate::telemetry::stats;

pub fn run(state: &State, args: StatsArgs) -> Result<StatsResult> {
    let window = args
        .since
        .as_deref()
        .map(stats::parse_since)
        .transpose()
        .map_err(|e| Error::invalid_params(format!("`since`: {e}")))?;
    let sessions = surface::sessions_for(state, args.uri.as_ref())?;
    let workspaces = sessions
        .iter()
        .map(|session| stats::workspace_stats(session, window))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(internal)?;
    Ok(StatsResult {
        since: args.since,
        workspaces,
    })
}
