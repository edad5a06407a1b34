//! [`ModelsError`]: why a prompt step got no answer, worded for the person
//! who has to act on it. Keys never appear: provider errors are already
//! redacted by the provider crate.

use agentls_provider::ProviderError;

/// A prompt that could not be answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelsError {
    /// The step (or `default_provider`) names a provider that is neither
    /// configured nor built in.
    #[error(
        "no provider named `{name}` (known: {}); define it with a [providers.{name}] table in \
         .agentls/config.toml or ~/.config/agentls/config.toml (see docs/providers.md)",
        known.join(", ")
    )]
    UnknownProvider {
        /// The name asked for.
        name: String,
        /// Every provider name the configuration knows, built-ins included.
        known: Vec<String>,
    },
    /// The provider could not be built or could not answer.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// Every provider of a fan-out failed; one message per provider, in the
    /// step's order.
    #[error("every provider failed: {}", .0.join("; "))]
    AllFailed(Vec<String>),
}
