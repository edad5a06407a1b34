//! What a turn keeps of the agent's updates: its answer (the message text,
//! a blank line where other work came between two messages), and what it
//! said of each tool call, to complete a permission request that names a
//! call by its id only (claude-code-acp 0.16 asks with the id, title and
//! input, its kind and files having come in the `tool_call` before).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use agent_client_protocol::v1::schema::{SessionUpdate, ToolCallUpdateFields};

use crate::{PermissionAsk, Update};

/// The agent's answer kept in memory (the step's output cap applies after).
const ANSWER_CAP: usize = 16 * 1024 * 1024;
/// Tool calls remembered; past it, new ones are not (a flood of calls
/// cannot grow memory without bound).
const KNOWN_CAP: usize = 4096;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The turn's answer: its message chunks joined.
#[derive(Default)]
pub(crate) struct Answer {
    text: String,
    /// Something other than message text came since the last chunk.
    between: bool,
}

impl Answer {
    pub fn take(&mut self, update: &Update) {
        match update {
            Update::Message(text) => {
                let gap = if self.between && !self.text.is_empty() && !self.text.ends_with('\n') {
                    "\n\n"
                } else {
                    ""
                };
                if self.text.len() + gap.len() + text.len() <= ANSWER_CAP {
                    self.text.push_str(gap);
                    self.text.push_str(text);
                }
                self.between = false;
            }
            Update::Thought(_) => {}
            _ => self.between = true,
        }
    }

    pub fn into_text(self) -> String {
        self.text
    }
}

/// What the agent said of a tool call so far.
#[derive(Default, Clone)]
struct Call {
    title: Option<String>,
    kind: Option<String>,
    locations: Vec<PathBuf>,
    raw_input: Option<serde_json::Value>,
}

impl Call {
    fn merge(&mut self, fields: &ToolCallUpdateFields) {
        if let Some(title) = &fields.title {
            self.title = Some(title.clone());
        }
        if let Some(kind) = fields.kind {
            self.kind = Some(crate::run::wire_name(kind));
        }
        if let Some(locations) = &fields.locations {
            self.locations = locations.iter().map(|l| l.path.clone()).collect();
        }
        if let Some(input) = &fields.raw_input {
            self.raw_input = Some(input.clone());
        }
    }
}

/// The session's tool calls, by id.
#[derive(Default)]
pub(crate) struct Known {
    calls: HashMap<String, Call>,
}

impl Known {
    pub fn learn(&mut self, update: &SessionUpdate) {
        let (id, call) = match update {
            SessionUpdate::ToolCall(call) => (
                call.tool_call_id.to_string(),
                Call {
                    title: Some(call.title.clone()),
                    kind: Some(crate::run::wire_name(call.kind)),
                    locations: call.locations.iter().map(|l| l.path.clone()).collect(),
                    raw_input: call.raw_input.clone(),
                },
            ),
            SessionUpdate::ToolCallUpdate(update) => {
                let id = update.tool_call_id.to_string();
                let mut call = self.calls.get(&id).cloned().unwrap_or_default();
                call.merge(&update.fields);
                (id, call)
            }
            _ => return,
        };
        if self.calls.len() < KNOWN_CAP || self.calls.contains_key(&id) {
            self.calls.insert(id, call);
        }
    }

    /// `ask` with what it leaves out (kind, files, input, title) taken
    /// from what the agent said of the same call before.
    pub fn complete(&self, mut ask: PermissionAsk) -> PermissionAsk {
        let Some(call) = self.calls.get(&ask.tool_call_id) else {
            return ask;
        };
        if ask.kind.is_none() {
            ask.kind = call.kind.clone();
        }
        if ask.locations.is_empty() {
            ask.locations = call.locations.clone();
        }
        if ask.raw_input.is_none() {
            ask.raw_input = call.raw_input.clone();
        }
        if ask.title.is_empty() {
            ask.title = call.title.clone().unwrap_or_default();
        }
        ask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_of(updates: &[Update]) -> String {
        let mut answer = Answer::default();
        for update in updates {
            answer.take(update);
        }
        answer.into_text()
    }

    #[test]
    fn messages_with_other_work_between_them_are_paragraphs() {
        let message = |t: &str| Update::Message(t.into());
        let call = Update::ToolCallUpdate {
            id: "1".into(),
            title: None,
            status: Some("completed".into()),
        };
        let thought = Update::Thought("hm".into());
        assert_eq!(
            answer_of(&[message("Read"), message("ing."), thought, message(" Then")]),
            "Reading. Then",
            "a thought is not work between"
        );
        assert_eq!(
            answer_of(&[message("Reading."), call.clone(), message("Done.")]),
            "Reading.\n\nDone."
        );
        assert_eq!(
            answer_of(&[message("Reading.\n"), call.clone(), message("Done.")]),
            "Reading.\nDone.",
            "a message that ended its line needs no gap"
        );
        assert_eq!(answer_of(&[call, message("Done.")]), "Done.");
    }
}
