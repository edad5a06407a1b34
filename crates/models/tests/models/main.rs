//! `prompt` steps end to end: a real engine with a temporary workspace and
//! SQLite store, `SessionModels` as its models, and the provider crate's
//! fake vendor servers on 127.0.0.1. Nothing here reaches the network.

mod calls;
mod command;
mod failures;
mod fanout;
mod replay;
mod support;
mod turns;
mod vendors;
