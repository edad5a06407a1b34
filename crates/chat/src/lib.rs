//! agentls-chat: the conversation of an `agent` step, in one vendor-neutral
//! shape.
//!
//! The providers turn it into each vendor's wire format (Anthropic
//! `tool_use`/`tool_result` blocks, OpenAI `tool_calls`/`tool` messages,
//! Gemini `functionCall`/`functionResponse` parts), the engine keeps it in
//! the store turn by turn (so a resumed run sends the model exactly what it
//! saw before), and the built-in tools describe themselves with
//! [`ToolSpec`]s.
//!
//! Architecture invariant: plain data with serde, no I/O and no dependency
//! on the other agentls crates, so every layer can share it (see
//! docs/architecture.md, "Agent steps").

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One message of the conversation, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    /// What the user (the workflow) says: the task, or a later instruction.
    User { text: String },
    /// One model turn: its text and the tools it asked to call, in order.
    Assistant {
        #[serde(default)]
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The results of the previous turn's tool calls, one per call, in the
    /// calls' order.
    Tool { results: Vec<ToolResult> },
}

/// A tool call the model asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The vendor's call id (Anthropic `toolu_…`, OpenAI `call_…`); for
    /// vendors without ids (Gemini) the provider makes one up, unique in
    /// the conversation.
    pub id: String,
    /// The tool's name, as the model wrote it (it may name no tool).
    pub name: String,
    /// The arguments. A JSON object when the model wrote valid JSON; the raw
    /// text as a string when it did not (the tool then answers with an
    /// error the model can act on).
    pub input: Value,
    /// Opaque vendor data that must be sent back with the call on the next
    /// turn (Gemini's `thoughtSignature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// What a tool call gave back to the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The [`ToolCall::id`] this answers.
    pub call_id: String,
    /// The tool's name (Gemini's `functionResponse` is matched by name).
    pub name: String,
    /// The result text, already capped for the model.
    pub content: String,
    /// Whether this is an error the model should act on (a refused path, a
    /// rejected command, invalid arguments).
    #[serde(default)]
    pub is_error: bool,
}

/// A tool the model may call: the name, what it does, and its parameters
/// as a JSON Schema object (sent to every vendor unchanged).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

impl ToolResult {
    /// A successful result.
    pub fn ok(call: &ToolCall, content: impl Into<String>) -> Self {
        ToolResult {
            call_id: call.id.clone(),
            name: call.name.clone(),
            content: content.into(),
            is_error: false,
        }
    }

    /// An error the model sees as the call's result.
    pub fn error(call: &ToolCall, content: impl Into<String>) -> Self {
        ToolResult {
            is_error: true,
            ..ToolResult::ok(call, content)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_round_trip_through_json_as_the_store_keeps_them() {
        let call = ToolCall {
            id: "call_1".into(),
            name: "read_file".into(),
            input: json!({"path": "src/lib.rs"}),
            signature: None,
        };
        let conversation = vec![
            Message::User {
                text: "fix it".into(),
            },
            Message::Assistant {
                text: "Let me look.".into(),
                tool_calls: vec![call.clone()],
            },
            Message::Tool {
                results: vec![ToolResult::error(&call, "no such file")],
            },
        ];
        let text = serde_json::to_string(&conversation).unwrap();
        assert!(text.contains(r#""role":"assistant""#), "{text}");
        let back: Vec<Message> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, conversation);
    }

    #[test]
    fn an_assistant_turn_without_tool_calls_reads_back_with_none() {
        let back: Message = serde_json::from_str(r#"{"role":"assistant","text":"done"}"#).unwrap();
        assert_eq!(
            back,
            Message::Assistant {
                text: "done".into(),
                tool_calls: vec![]
            }
        );
    }
}
