//! A stalled editor neither slows a run nor grows the server's memory: the
//! client stops reading for 10 s while a step prints 500 MB; the run
//! finishes meanwhile, the server's peak resident memory stays under
//! 100 MB, and once the client reads again it gets the final state, and
//! `agent.output` has the (capped) output.
//!
//! This test takes about 10 s by design (the stall is the specification).

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

const STALL: Duration = Duration::from_secs(10);
const PRINTED: u64 = 500_000_000;
const CAP: usize = 2 * 1024 * 1024;
const LINE: &str = "agentls stalled editor test: a line of fifty bytes";

/// Peak resident set size of a process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc/<pid>/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[test]
fn stalled_client_keeps_memory_bounded_and_the_run_at_full_speed() {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    env.write(
        "ws/.agentls/config.toml",
        // Plain pipes: a pseudo-terminal alone moves only ~50 MB/s here,
        // which would make "full speed" 10 s by itself.
        &format!("[exec]\npty = false\n[store]\nmax_output_bytes = {CAP}\n"),
    );
    env.user_workflow(
        "loud",
        &format!(
            "[[steps]]\nid = \"print\"\nrun = \"yes '{LINE}' | head -c {PRINTED}\"\ntimeout = \"5m\"\n"
        ),
    );
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    let uri = file_uri(&file);

    let run = server.start_run(json!({"workflow": "loud", "uri": uri}));
    // Streaming is under way before the editor stalls.
    server.wait_notification("agent/output", "first output", |p| p["runId"] == run);
    server.pause_reading();
    std::thread::sleep(STALL);
    let resumed_ms = unix_ms();
    let resumed = Instant::now();
    server.resume_reading();

    let done = server.wait_state_within(&run, "completed", Duration::from_secs(120));
    assert_eq!(done["steps"][0]["status"], "completed");
    let caught_up = resumed.elapsed();
    let status = server.command_ok("agent.status", json!({"runId": run}));
    let finished = status["finishedAt"].as_i64().expect("finishedAt");
    let took = finished - status["createdAt"].as_i64().expect("createdAt");
    assert!(
        finished < resumed_ms,
        "the run must finish while the editor is stalled (it took {took} ms)"
    );

    let peak = peak_rss_kib(server.pid());
    eprintln!(
        "stall: run of {PRINTED} bytes took {took} ms; peak RSS {} MiB; caught up {caught_up:?} after resuming",
        peak / 1024
    );
    assert!(peak < 100 * 1024, "peak resident memory {peak} KiB");

    let output = server.command_ok("agent.output", json!({"runId": run, "step": "print"}));
    assert_eq!(output["truncated"], true);
    let text = output["text"].as_str().unwrap_or("");
    assert!(
        text.len() <= CAP + 200,
        "output capped at {CAP} bytes: {}",
        text.len()
    );
    assert!(
        text.starts_with("[agentls: "),
        "the cap is marked: {}",
        &text[..80]
    );
    // The stream ends with a whole line and then a cut one.
    let tail = &LINE[..(PRINTED % (LINE.len() as u64 + 1)) as usize];
    assert!(
        text.trim_end()
            .ends_with(&format!("{LINE}\n{tail}").replace('\n', "\r\n"))
            || text.ends_with(&format!("{LINE}\n{tail}")),
        "the tail is kept: {:?}",
        &text[text.len().saturating_sub(120)..]
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
