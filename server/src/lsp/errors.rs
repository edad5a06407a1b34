//! The JSON-RPC errors the LSP layer answers with: which code a failure
//! gets (docs/protocol.md lists them), and how much of what the client sent
//! an error message may quote.
//!
//! A message names the value it is about (``no run `0k3v9` ``), but a value
//! can be megabytes: messages quote through [`echo`], and every command
//! error leaves through [`bounded`], which also catches messages that other
//! crates built (serde, the store, the engine) with a value inside.

use std::borrow::Cow;
use std::fmt::Display;

use agentls_store::StoreError;
use tower_lsp_server::jsonrpc::{Error, ErrorCode};

/// The characters of a client's value that a message quotes.
pub const ECHO_CHARS: usize = 200;

/// The characters kept of a message built elsewhere: its head and its
/// tail (where lists of what exists go).
const MESSAGE_HEAD: usize = 1000;
const MESSAGE_TAIL: usize = 500;

/// `value` for quoting in a message: its first [`ECHO_CHARS`] characters,
/// then `…(N bytes)` when it is longer.
pub fn echo(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(ECHO_CHARS) {
        None => Cow::Borrowed(value),
        Some((cut, _)) => Cow::Owned(format!("{}…({} bytes)", &value[..cut], value.len())),
    }
}

/// `message` cut to its head and tail when it is long, with how much was
/// left out in between.
pub fn bounded(message: String) -> String {
    let Some((head_end, _)) = message.char_indices().nth(MESSAGE_HEAD) else {
        return message;
    };
    let Some((tail_start, _)) = message.char_indices().rev().nth(MESSAGE_TAIL - 1) else {
        return message;
    };
    if tail_start <= head_end {
        return message;
    }
    format!(
        "{}…({} bytes left out)…{}",
        &message[..head_end],
        tail_start - head_end,
        &message[tail_start..]
    )
}

/// `err` with its message bounded: the last step of every error path.
pub fn bounded_error(mut err: Error) -> Error {
    if let Cow::Owned(message) = &mut err.message {
        *message = bounded(std::mem::take(message));
    } else if err.message.len() > MESSAGE_HEAD + MESSAGE_TAIL {
        err.message = Cow::Owned(bounded(err.message.to_string()));
    }
    err
}

/// A request the server could not serve through no fault of its own
/// (`-32603`): the workspace's store cannot be opened, read or written.
pub fn internal(message: impl Display) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: bounded(message.to_string()).into(),
        data: None,
    }
}

/// A store failure: the client's fault (`-32602`) when it named a run that
/// is not one, else the store's (`-32603`).
pub fn store_error(err: StoreError) -> Error {
    match err {
        StoreError::InvalidRunId(_)
        | StoreError::UnknownRun(_)
        | StoreError::AmbiguousRun { .. } => Error::invalid_params(bounded(err.to_string())),
        other => internal(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(echo("0k3v9"), "0k3v9");
        let exactly = "é".repeat(ECHO_CHARS);
        assert_eq!(echo(&exactly), exactly);
    }

    #[test]
    fn long_values_keep_their_first_characters_and_say_how_long_they_were() {
        let long = "é".repeat(ECHO_CHARS + 1);
        let quoted = echo(&long);
        assert_eq!(
            quoted,
            format!("{}…({} bytes)", "é".repeat(ECHO_CHARS), long.len())
        );
    }

    #[test]
    fn long_messages_keep_head_and_tail() {
        let message = format!(
            "no run matches `{}`; see `agentls runs`",
            "x".repeat(4 << 20)
        );
        let cut = bounded(message.clone());
        assert!(cut.len() < 2000, "{} bytes", cut.len());
        assert!(cut.starts_with("no run matches `xxx"), "{cut}");
        assert!(cut.ends_with("xxx`; see `agentls runs`"), "{cut}");
        assert!(cut.contains("bytes left out"), "{cut}");
        assert_eq!(bounded("short".into()), "short");
    }

    #[test]
    fn store_errors_are_internal_unless_the_client_named_a_bad_run() {
        let bad_id = store_error(StoreError::InvalidRunId("!".into()));
        assert_eq!(bad_id.code, ErrorCode::InvalidParams);
        let broken = store_error(StoreError::SchemaTooNew {
            found: 9,
            supported: 1,
        });
        assert_eq!(broken.code, ErrorCode::InternalError);
    }
}
