//! The fake vendor servers live in `agentls_provider::testing` (feature
//! `testing`) so other crates' tests can use them too.

pub use agentls_provider::testing::*;
