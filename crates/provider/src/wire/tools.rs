//! What the three tool-calling formats share: a tool call being streamed,
//! the rule that turns its argument text into a [`ToolCall::input`], and
//! call ids for servers that send none.

use std::collections::HashSet;

use agentls_chat::{Message, ToolCall};
use serde_json::{json, Value};

/// A tool call as its pieces arrive. Becomes a [`ToolCall`] only when the
/// answer is whole: a stream that breaks first never returns it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct PartialCall {
    /// The vendor's id; `None` when it sent none (Gemini, some
    /// OpenAI-compatible servers), made up at the end.
    pub id: Option<String>,
    pub name: String,
    /// The argument text so far (Anthropic `partial_json`, OpenAI
    /// `arguments` fragments).
    pub arguments: String,
    /// Arguments that came whole as JSON (Gemini `args`, Anthropic's
    /// `content_block_start` input): used when no argument text came.
    pub input: Option<Value>,
    /// Gemini's `thoughtSignature`.
    pub signature: Option<String>,
}

impl PartialCall {
    /// The finished call, with `id` when the vendor sent none.
    pub fn finish(&self, id: impl FnOnce() -> String) -> ToolCall {
        let input = match &self.input {
            Some(input) if self.arguments.trim().is_empty() => whole_input(input),
            _ => arguments(&self.arguments),
        };
        ToolCall {
            id: self.id.clone().unwrap_or_else(id),
            name: self.name.clone(),
            input,
            signature: self.signature.clone(),
        }
    }
}

/// The input of a call from its whole argument text: the JSON object it
/// holds; `{}` for no text at all (Anthropic streams an empty
/// `partial_json` for a tool without parameters); anything else (text
/// that is not JSON, or JSON that is not an object) as the raw text in a
/// JSON string, so the tool layer answers with an error the model can act
/// on.
pub(crate) fn arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(object @ Value::Object(_)) => object,
        _ => Value::String(raw.to_string()),
    }
}

/// The same rule for arguments that came as JSON already.
fn whole_input(input: &Value) -> Value {
    match input {
        Value::Object(_) => input.clone(),
        Value::Null => json!({}),
        other => Value::String(other.to_string()),
    }
}

/// Makes up call ids `{prefix}-N`, unique in the conversation: N counts on
/// from the calls the conversation holds, skipping any id already used.
#[derive(Debug)]
pub(crate) struct Ids {
    prefix: &'static str,
    next: usize,
    used: HashSet<String>,
}

impl Ids {
    pub fn new(prefix: &'static str, conversation: &[Message]) -> Ids {
        let used: HashSet<String> = conversation
            .iter()
            .flat_map(|message| match message {
                Message::Assistant { tool_calls, .. } => tool_calls.as_slice(),
                _ => &[],
            })
            .map(|call| call.id.clone())
            .collect();
        Ids {
            prefix,
            next: used.len() + 1,
            used,
        }
    }

    /// The ids of `calls`, made up where missing, in order.
    pub fn finish<'a>(
        &self,
        calls: impl Iterator<Item = &'a PartialCall> + Clone,
    ) -> Vec<ToolCall> {
        let mut next = self.next;
        // Ids the vendor sent in this answer; made-up ones never repeat, as
        // `next` only grows.
        let taken: HashSet<&str> = calls.clone().filter_map(|c| c.id.as_deref()).collect();
        calls
            .map(|call| {
                call.finish(|| loop {
                    let id = format!("{}-{next}", self.prefix);
                    next += 1;
                    if !self.used.contains(&id) && !taken.contains(id.as_str()) {
                        break id;
                    }
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_text_becomes_an_object_nothing_or_the_raw_text() {
        assert_eq!(arguments(r#"{"path": "a.rs"}"#), json!({"path": "a.rs"}));
        assert_eq!(arguments(""), json!({}));
        assert_eq!(arguments("  \n"), json!({}));
        assert_eq!(arguments(r#"{"path": a.rs}"#), json!(r#"{"path": a.rs}"#));
        assert_eq!(arguments("[1, 2]"), json!("[1, 2]"));
        assert_eq!(arguments("null"), json!("null"));
    }

    #[test]
    fn whole_input_that_is_no_object_becomes_its_json_text() {
        let call = |input: Value| PartialCall {
            name: "t".into(),
            input: Some(input),
            ..PartialCall::default()
        };
        let id = || "x".to_string();
        assert_eq!(call(json!({"a": 1})).finish(id).input, json!({"a": 1}));
        assert_eq!(call(Value::Null).finish(id).input, json!({}));
        assert_eq!(call(json!([1])).finish(id).input, json!("[1]"));
    }

    #[test]
    fn made_up_ids_skip_those_taken_in_the_conversation_and_the_answer() {
        let taken = |id: &str| ToolCall {
            id: id.into(),
            name: "t".into(),
            input: json!({}),
            signature: None,
        };
        let conversation = [Message::Assistant {
            text: String::new(),
            tool_calls: vec![taken("c-2"), taken("toolu_x")],
        }];
        let ids = Ids::new("c", &conversation);
        let calls = [
            PartialCall::default(),
            PartialCall {
                id: Some("c-4".into()),
                ..PartialCall::default()
            },
            PartialCall::default(),
        ];
        let made: Vec<String> = ids.finish(calls.iter()).into_iter().map(|c| c.id).collect();
        assert_eq!(made, ["c-3", "c-4", "c-5"]);
    }
}
