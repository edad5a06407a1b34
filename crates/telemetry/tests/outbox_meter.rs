//! The outbox counters: running totals fed to an `OutboxMeter` arrive at
//! the collector as the increase, by outcome. Its own test binary: it sets
//! the process's global meter provider.

use std::time::Duration;

use agentls_telemetry::testing::Receiver;
use agentls_telemetry::{OutboxMeter, OutboxTotals, Protocol, Settings, Telemetry};

#[test]
fn outbox_totals_become_counter_increments_by_outcome() {
    let receiver = Receiver::start();
    let telemetry = Telemetry::start(&Settings {
        traces_endpoint: None,
        metrics_endpoint: Some(format!("{}/v1/metrics", receiver.endpoint())),
        protocol: Protocol::HttpJson,
        service_name: "agentls".into(),
        record_content: false,
        timeout: Duration::from_secs(5),
    })
    .expect("pipeline");
    telemetry.install_global();

    let meter = OutboxMeter::new();
    let totals = |sent, coalesced, dropped| OutboxTotals {
        sent,
        coalesced,
        dropped,
    };
    meter.record(totals(3, 10, 0));
    meter.record(totals(3, 10, 0));
    meter.record(totals(5, 25, 1));
    // A second outbox behind its own meter adds to the same counters.
    OutboxMeter::new().record(totals(2, 0, 0));
    assert!(telemetry.shutdown(Duration::from_secs(5)), "flushed");

    let points = receiver.points("agentls.outbox.notifications");
    let value = |outcome: &str| {
        points
            .iter()
            .find(|p| p.str("agentls.outbox.outcome") == Some(outcome))
            .map(|p| p.value)
    };
    assert_eq!(
        (value("sent"), value("coalesced"), value("dropped")),
        (Some(7.0), Some(25.0), Some(1.0)),
        "{points:#?}"
    );
    assert_eq!(points[0].unit, "{notification}");
}
