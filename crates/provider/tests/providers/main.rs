//! Provider tests against local fake servers that speak each vendor's
//! documented wire format byte for byte. Nothing here reaches the network.

mod anthropic;
mod cassette;
mod command;
mod failures;
mod gemini;
mod openai;
mod secrets;
mod support;
mod tools;
