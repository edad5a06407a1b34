//! Benchmarks of the editor surface (ignored by default; numbers go to
//! docs/benchmarks.md). Run with:
//!
//! ```sh
//! cargo test --release -p agentls --test surface_bench -- --ignored --nocapture --test-threads=1
//! ```
//!
//! - `status_latency_*`: `agent.status` round trips while 10 runs stream at
//!   full speed, and with nothing running.
//! - `flood_*`: notifications and bytes per second reaching the client, and
//!   the delay from a line being printed to the client receiving it.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const SAMPLES: usize = 2000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn server(config: &str, workflows: &[(&str, &str)]) -> (TestServer, String) {
    server_with(config, workflows, InitParams::new().run_events())
}

fn server_with(config: &str, workflows: &[(&str, &str)], init: InitParams) -> (TestServer, String) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write("ws/.agentls/config.toml", config);
    for (name, toml) in workflows {
        env.user_workflow(name, toml);
    }
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new().env("AGENTLS_LOG", "warn"));
    server.initialize(init.folder(&folder).build());
    (server, file_uri(&file))
}

/// `agent.status` round trips in milliseconds, sorted.
fn status_round_trips(server: &TestServer, run: &str) -> Vec<f64> {
    let mut times: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            server.command_ok("agent.status", json!({"runId": run}));
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times
}

const STREAM: &str = r#"
[[steps]]
id = "stream"
run = "yes 'a line of output streamed at full speed by the benchmark'"
"#;

const QUICK: &str = r#"
[[steps]]
id = "quick"
run = "echo done"
"#;

fn status_latency(config: &str, label: &str, run_events: bool) {
    let init = if run_events {
        InitParams::new().run_events()
    } else {
        InitParams::new()
    };
    let (server, uri) = server_with(config, &[("stream", STREAM), ("quick", QUICK)], init);
    let quick = server.start_run(json!({"workflow": "quick", "uri": uri}));
    server.wait_message(&quick, "completed");
    let idle = status_round_trips(&server, &quick);

    let runs: Vec<String> = (0..10)
        .map(|_| server.start_run(json!({"workflow": "stream", "uri": uri})))
        .collect();
    for run in &runs {
        server.wait_for("the run to stream", support::DEFAULT_TIMEOUT, |r| {
            let status = r.notifications("$/progress").iter().any(|p| {
                p["token"]
                    .as_str()
                    .is_some_and(|t| t.contains(run.as_str()))
            });
            status.then_some(())
        });
    }
    // From here on the outputs' texts are not kept: 10 runs at full speed
    // would fill the test's memory.
    server.record_without_params("agent/output");
    let before = server.notifications("agent/output").len();
    let started = Instant::now();
    let busy = status_round_trips(&server, &quick);
    let elapsed = started.elapsed().as_secs_f64();
    let during = server.notifications("agent/output").len() - before;
    for run in &runs {
        server.command_ok("agent.cancel", json!({"runId": run}));
    }
    println!(
        "status latency ({label}): idle p50 {:.2} ms p99 {:.2} ms; with 10 runs streaming p50 {:.2} ms p99 {:.2} ms ({} agent/output in {:.1} s = {:.0}/s)",
        percentile(&idle, 50.0),
        percentile(&idle, 99.0),
        percentile(&busy, 50.0),
        percentile(&busy, 99.0),
        during,
        elapsed,
        during as f64 / elapsed
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
#[ignore = "benchmark"]
fn status_latency_while_ten_runs_stream_pty() {
    status_latency("", "pty, run events", true);
}

#[test]
#[ignore = "benchmark"]
fn status_latency_while_ten_runs_stream_pipes() {
    status_latency("[exec]\npty = false\n", "pipes, run events", true);
}

#[test]
#[ignore = "benchmark"]
fn status_latency_while_ten_runs_stream_pipes_plain_client() {
    status_latency("[exec]\npty = false\n", "pipes, plain client", false);
}

/// Prints `count` lines (or for `seconds`), each stamped with the time it
/// was printed, one write per line.
fn stamped(count: u64, seconds: u64) -> String {
    format!(
        r#"
[[steps]]
id = "flood"
run = "perl -MTime::HiRes=time -e '$|=1; my $n=0; my $end=time+{seconds}; while ($n < {count} && time < $end) {{ printf(\"%d %.6f\\n\", $n++, time) }}'"
"#
    )
}

fn flood(count: u64, seconds: u64, label: &str) {
    let workflow = stamped(count, seconds);
    let (server, uri) = server("[exec]\npty = false\n", &[("flood", &workflow)]);
    let run = server.start_run(json!({"workflow": "flood", "uri": uri}));
    server.wait_state_within(&run, "completed", Duration::from_secs(seconds + 60));
    // Instant -> wall clock, to compare with the printed stamps.
    let (now_wall, now_instant) = (
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64(),
        Instant::now(),
    );
    let received: Vec<(f64, String)> = server.with_recorded(|r| {
        r.notifications
            .iter()
            .filter(|n| n.method == "agent/output" && n.params["runId"] == run)
            .map(|n| {
                let at = now_wall - now_instant.duration_since(n.received).as_secs_f64();
                (at, n.params["text"].as_str().unwrap_or("").to_owned())
            })
            .collect()
    });
    let bytes: usize = received.iter().map(|(_, t)| t.len()).sum();
    let span =
        received.last().map(|l| l.0).unwrap_or(0.0) - received.first().map(|f| f.0).unwrap_or(0.0);
    let mut line_delays = Vec::new();
    let mut message_delays = Vec::new();
    for (at, text) in &received {
        let mut oldest: Option<f64> = None;
        for line in text.lines() {
            // Whole `N SECONDS.MICROS` lines only: a skip marker, or a line
            // cut by one, carries no stamp.
            let mut fields = line.split(' ');
            let (Some(n), Some(stamp), None) = (fields.next(), fields.next(), fields.next()) else {
                continue;
            };
            let whole = n.parse::<u64>().is_ok()
                && stamp.len() == 17
                && stamp.as_bytes().get(10) == Some(&b'.');
            let Some(stamp) = stamp.parse::<f64>().ok().filter(|_| whole) else {
                continue;
            };
            let delay = (at - stamp) * 1000.0;
            line_delays.push(delay);
            oldest = Some(oldest.map_or(delay, |o: f64| o.max(delay)));
        }
        message_delays.extend(oldest);
    }
    line_delays.sort_by(|a, b| a.total_cmp(b));
    message_delays.sort_by(|a, b| a.total_cmp(b));
    let skipped = server.with_recorded(|r| {
        r.notifications("agent/output")
            .iter()
            .filter(|p| {
                p["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("bytes skipped in the live view")
            })
            .count()
    });
    println!(
        "flood ({label}): {} lines received, {} agent/output in {:.2} s = {:.1}/s, {:.1} MB/s; \
         line delay p50 {:.1} ms p99 {:.1} ms; oldest line per notification p50 {:.1} ms p99 {:.1} ms; {} skip markers",
        line_delays.len(),
        received.len(),
        span,
        received.len() as f64 / span.max(1e-9),
        bytes as f64 / span.max(1e-9) / 1e6,
        percentile(&line_delays, 50.0),
        percentile(&line_delays, 99.0),
        percentile(&message_delays, 50.0),
        percentile(&message_delays, 99.0),
        skipped,
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
#[ignore = "benchmark"]
fn flood_fifty_thousand_lines() {
    flood(50_000, 60, "50,000 lines");
}

#[test]
#[ignore = "benchmark"]
fn flood_five_seconds_at_full_speed() {
    flood(u64::MAX / 2, 5, "5 s full speed");
}
