//! agentls: a language server that runs multi-step AI agent workflows.
//!
//! See docs/architecture.md for the layers and what each must never import.

pub mod cli;
pub mod config;
pub mod lsp;
pub mod session;
pub mod state;
pub mod telemetry;
