//! Memory bounds and delivery guarantees under a slow, stalled or closed
//! editor.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use agentls_stream::{Limits, Outgoing};
use serde_json::json;
use support::*;

/// Slack over a byte bound: the marker's reserve, with room to spare.
const SMALL: usize = 1024;

/// Deterministic, line-structured test output: chunk `i` of `len` bytes.
fn chunk(run: usize, i: usize, len: usize) -> String {
    let line = format!("run {run} chunk {i:06} ");
    line.repeat(len / line.len() + 1)[..len].to_owned()
}

#[tokio::test(start_paused = true)]
async fn stalled_editor_keeps_pending_output_bounded() {
    let limits = Limits::default();
    let cap = limits.max_pending_bytes_per_run;
    let mut editor = Editor::new(limits);
    editor.stall();
    editor.outbox.push(output("r1", "test", "first\n"));
    editor.next_handed().await; // "first\n" is stuck in the editor's pipe

    // 50 MiB from a producer thread, as a PTY reader pushes. If a push ever
    // waited on the editor this would never finish: the editor is stalled.
    let outbox = editor.outbox.clone();
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut full = String::new();
        let mut peak = 0;
        for i in 0..(50 * 1024 * 1024 / 4096) {
            let text = chunk(1, i, 4096);
            full.push_str(&text);
            outbox.push(output("r1", "test", text));
            peak = peak.max(outbox.stats().pending_bytes);
        }
        let _ = done_tx.send((full, peak));
    });
    let (full, peak) = done_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("pushing never blocks on a stalled editor");
    assert!(peak <= cap + SMALL, "peak {peak} over the per-run bound");
    assert!(editor.outbox.stats().peak_pending_bytes <= cap + SMALL);

    editor.resume();
    editor.outbox.flush().await;
    let live = editor.output_text("r1");
    let rest = live
        .strip_prefix("first\n")
        .expect("the in-flight chunk is delivered first");
    let skipped = assert_head_marker_tail(&full, rest);
    assert_eq!(editor.outbox.stats().skipped_bytes, skipped as u64);
    let seqs: Vec<u64> = editor.outputs("r1").iter().map(|o| o.3).collect();
    assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn final_state_survives_a_stalled_editor() {
    let mut editor = Editor::new(Limits {
        max_pending_bytes_per_run: 64 * 1024,
        ..Limits::default()
    });
    editor.stall_with_one_in_flight().await;
    editor.outbox.push(begin("r1", "Fix tests"));
    let mut full = String::new();
    for i in 0..1000 {
        let text = chunk(1, i, 1000);
        full.push_str(&text);
        editor.outbox.push(output("r1", "fix", text));
        editor
            .outbox
            .push(state("r1", json!({"status": "running", "tick": i}), false));
    }
    editor.outbox.push(end("r1"));
    editor
        .outbox
        .push(state("r1", json!({"status": "completed"}), true));
    editor.resume();
    editor.outbox.flush().await;

    let run_messages: Vec<Outgoing> = editor.messages().into_iter().skip(1).collect();
    let last = run_messages.last().expect("messages were delivered");
    assert_eq!(
        last,
        &Outgoing::State {
            run: "r1".into(),
            state: json!({"status": "completed"}),
            is_final: true
        }
    );
    let last_output = run_messages
        .iter()
        .rposition(|m| matches!(m, Outgoing::Output { .. }))
        .expect("output was delivered");
    assert!(
        last_output < run_messages.len() - 2,
        "end and final state follow the output"
    );
    let states = run_messages
        .iter()
        .filter(|m| matches!(m, Outgoing::State { .. }))
        .count();
    assert_eq!(
        states, 1,
        "the running states were superseded while stalled"
    );
    assert_head_marker_tail(&full, &editor.output_text("r1"));
}

#[tokio::test(start_paused = true)]
async fn many_runs_share_the_total_bound() {
    let limits = Limits {
        max_pending_bytes_per_run: 1024 * 1024,
        max_pending_bytes_total: 2 * 1024 * 1024,
        ..Limits::default()
    };
    let total = limits.max_pending_bytes_total;
    let mut editor = Editor::new(limits);
    editor.stall_with_one_in_flight().await;

    let runs = 100;
    let mut full = vec![String::new(); runs];
    // 100 runs x 200 KiB = 20 MiB, interleaved as concurrent runs write.
    for i in 0..200 {
        for (run, text_so_far) in full.iter_mut().enumerate() {
            let text = chunk(run, i, 1024);
            text_so_far.push_str(&text);
            editor.outbox.push(output(&format!("r{run}"), "s", text));
        }
        assert!(editor.outbox.stats().pending_bytes <= total);
    }
    for run in 0..runs {
        editor.outbox.push(state(
            &format!("r{run}"),
            json!({"status": "completed"}),
            true,
        ));
    }
    assert!(editor.outbox.stats().peak_pending_bytes <= total);

    editor.resume();
    editor.outbox.flush().await;
    let messages = editor.messages();
    for (run, full) in full.iter().enumerate() {
        let name = format!("r{run}");
        assert_head_marker_tail(full, &editor.output_text(&name));
        let finals = messages
            .iter()
            .filter(|m| matches!(m, Outgoing::State { run, is_final: true, .. } if *run == name))
            .count();
        assert_eq!(finals, 1, "{name}'s final state is delivered");
    }
}

#[tokio::test(start_paused = true)]
async fn slow_editor_gets_fewer_larger_messages() {
    let mut editor = Editor::new(Limits::default());
    let mut full = String::new();
    // The editor takes a whole second per message; the producer writes
    // 100 KiB in that time, and everything still fits the bound.
    editor.stall_with_one_in_flight().await;
    for i in 0..100 {
        let text = chunk(1, i, 1024);
        full.push_str(&text);
        editor.outbox.push(output("r1", "s", text));
        if i % 10 == 9 {
            editor.resume();
            editor.next_handed().await;
            editor.stall();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    editor.resume();
    editor.outbox.flush().await;
    assert_eq!(
        editor.output_text("r1"),
        full,
        "nothing lost under the bound"
    );
    assert!(editor.outputs("r1").len() <= 10);
}

#[tokio::test(start_paused = true)]
async fn closed_editor_discards_later_pushes() {
    let mut editor = Editor::closing_after(Limits::default(), 1);
    editor.outbox.push(output("r1", "s", "one"));
    editor.outbox.flush().await;
    editor.outbox.push(output("r1", "s", "two"));
    editor.next_handed().await;
    editor.outbox.flush().await; // returns: nothing can be delivered any more
    editor.outbox.push(output("r1", "s", "three"));

    assert_eq!(editor.output_text("r1"), "one");
    let stats = editor.outbox.stats();
    assert_eq!(stats.sent, 1);
    assert_eq!(stats.dropped, 1);
    assert_eq!(stats.pending_bytes, 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_outbox_delivers_what_is_pending_then_stops() {
    let Editor {
        outbox,
        log,
        gate: _gate,
        sink_dropped,
        ..
    } = Editor::new(Limits::default());
    outbox.push(output("r1", "s", "a"));
    outbox.push(output("r1", "s", "b"));
    tokio::task::yield_now().await; // "a b" leaves; the next slot is 50 ms away
    outbox.push(output("r1", "s", "c"));
    outbox.push(state("r1", json!({"status": "completed"}), true));
    drop(outbox);
    sink_dropped
        .await
        .expect("the driver stops and drops the sink");

    let messages = log.messages();
    assert!(
        matches!(&messages[..], [
        Outgoing::Output { text: ab, seq: 0, .. },
        Outgoing::Output { text: c, seq: 1, .. },
        Outgoing::State { is_final: true, .. },
    ] if ab == "ab" && c == "c"),
        "{messages:?}"
    );
}
