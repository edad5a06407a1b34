//! The span processor every finished span passes through: it records the
//! span's metrics, puts its attributes in the shape the semantic
//! conventions ask for, then hands it to the batch exporter (if traces are
//! exported at all).

use std::time::Duration;

use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::metrics::Instruments;

/// The event the models crate carries prompt and answer text in.
pub(crate) const CONTENT_EVENT: &str = "gen_ai.client.inference.operation.details";

/// Attributes of the content event that belong on the span.
const CONTENT_ATTRIBUTES: &[&str] = &["gen_ai.input.messages", "gen_ai.output.messages"];

#[derive(Debug)]
pub(crate) struct Observer<P> {
    /// The exporting processor; `None` when only metrics are exported.
    pub next: Option<P>,
    pub instruments: Option<Instruments>,
    pub record_content: bool,
}

impl<P: SpanProcessor> SpanProcessor for Observer<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(next) = &self.next {
            next.on_start(span, cx);
        }
    }

    fn on_end(&self, mut span: SpanData) {
        if let Some(instruments) = &self.instruments {
            instruments.observe(&span);
        }
        if let Some(next) = &self.next {
            conventions(&mut span, self.record_content);
            next.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        match &self.next {
            Some(next) => next.force_flush(),
            None => Ok(()),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match &self.next {
            Some(next) => next.shutdown_with_timeout(timeout),
            None => Ok(()),
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Some(next) = &mut self.next {
            next.set_resource(resource);
        }
    }
}

/// Rewrites what `tracing` fields cannot express:
/// - `gen_ai.response.finish_reasons` becomes the string array it is;
/// - the content event's messages move onto the span as attributes (and
///   the event, like any content, is dropped unless content is recorded).
pub(crate) fn conventions(span: &mut SpanData, record_content: bool) {
    for kv in &mut span.attributes {
        if kv.key.as_str() == "gen_ai.response.finish_reasons" {
            if let Value::String(reason) = &kv.value {
                let reasons = vec![StringValue::from(reason.as_str().to_string())];
                kv.value = Value::Array(Array::String(reasons));
            }
        }
    }
    let events = std::mem::take(&mut span.events.events);
    for event in events {
        if event.name != CONTENT_EVENT {
            span.events.events.push(event);
            continue;
        }
        if record_content {
            span.attributes.extend(
                event
                    .attributes
                    .into_iter()
                    .filter(|kv| CONTENT_ATTRIBUTES.contains(&kv.key.as_str()))
                    .map(|kv| KeyValue::new(kv.key, kv.value)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Event, SpanContext, SpanId, SpanKind, Status};
    use opentelemetry::InstrumentationScope;
    use std::time::SystemTime;

    fn span(attributes: Vec<KeyValue>, events: Vec<Event>) -> SpanData {
        let mut data = SpanData {
            span_context: SpanContext::empty_context(),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Client,
            name: "chat m".into(),
            start_time: SystemTime::now(),
            end_time: SystemTime::now(),
            attributes,
            dropped_attributes_count: 0,
            events: Default::default(),
            links: Default::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("t").build(),
        };
        data.events.events = events;
        data
    }

    fn content_event() -> Event {
        Event::new(
            CONTENT_EVENT,
            SystemTime::now(),
            vec![
                KeyValue::new("gen_ai.input.messages", "[in]"),
                KeyValue::new("gen_ai.output.messages", "[out]"),
                KeyValue::new("level", "INFO"),
            ],
            0,
        )
    }

    #[test]
    fn finish_reasons_become_an_array() {
        let mut data = span(
            vec![KeyValue::new("gen_ai.response.finish_reasons", "end_turn")],
            vec![],
        );
        conventions(&mut data, false);
        assert_eq!(
            data.attributes[0].value,
            Value::Array(Array::String(vec!["end_turn".into()]))
        );
    }

    #[test]
    fn content_moves_onto_the_span_only_when_recorded() {
        let mut kept = span(vec![], vec![content_event()]);
        conventions(&mut kept, true);
        let keys: Vec<&str> = kept.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["gen_ai.input.messages", "gen_ai.output.messages"]);
        assert!(kept.events.events.is_empty());

        let mut dropped = span(vec![], vec![content_event()]);
        conventions(&mut dropped, false);
        assert!(dropped.attributes.is_empty());
        assert!(dropped.events.events.is_empty());
    }
}
