//! Rates, coalescing and ordering, in simulated time: the clock is paused
//! and only moves when every task waits, so pacing is exact and instant.

mod support;

use std::time::Duration;

use agentls_stream::{Limits, Outgoing, Progress};
use serde_json::json;
use support::*;
use tokio::time::{sleep, Instant};

#[tokio::test(start_paused = true)]
async fn burst_of_output_is_concatenated_and_paced() {
    let editor = Editor::new(Limits::default());
    let mut pushed = String::new();
    // 10,000 chunks over one simulated second: ten per millisecond.
    for i in 0..10_000 {
        let chunk = format!("line {i}\n");
        pushed.push_str(&chunk);
        editor.outbox.push(output("r1", "test", chunk));
        if i % 10 == 9 {
            sleep(Duration::from_millis(1)).await;
        }
    }
    editor.outbox.flush().await;

    let outputs = editor.outputs("r1");
    let times: Vec<Instant> = outputs.iter().map(|o| o.0).collect();
    assert_at_most_per_second(&times, 20);
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(50));
    }
    // Paced, not held back: a message every slot while output flows.
    assert!(
        (19..=22).contains(&outputs.len()),
        "{} messages",
        outputs.len()
    );
    let seqs: Vec<u64> = outputs.iter().map(|o| o.3).collect();
    assert_eq!(seqs, (0..outputs.len() as u64).collect::<Vec<_>>());
    assert_eq!(editor.output_text("r1"), pushed);
    let stats = editor.outbox.stats();
    assert_eq!(stats.skipped_bytes, 0);
    assert_eq!(stats.coalesced, 10_000 - outputs.len() as u64);
    assert_eq!(stats.pending_bytes, 0);
}

#[tokio::test(start_paused = true)]
async fn first_output_leaves_at_once() {
    let mut editor = Editor::new(Limits::default());
    let start = Instant::now();
    editor.outbox.push(output("r1", "test", "hello\n"));
    editor.next_handed().await;
    assert_eq!(Instant::now(), start);
}

#[tokio::test(start_paused = true)]
async fn progress_reports_are_latest_wins_and_paced() {
    let editor = Editor::new(Limits::default());
    editor.outbox.push(begin("r1", "Run tests"));
    for i in 0..1000 {
        editor.outbox.push(report("r1", format!("{i}")));
        sleep(Duration::from_millis(1)).await;
    }
    editor.outbox.push(end("r1"));
    editor.outbox.flush().await;

    let received = editor.received();
    let (first, rest) = received.split_first().expect("begin was sent");
    let (last, reports) = rest.split_last().expect("end was sent");
    assert!(matches!(
        first.message,
        Outgoing::Progress {
            progress: Progress::Begin { .. },
            ..
        }
    ));
    assert!(matches!(
        last.message,
        Outgoing::Progress {
            progress: Progress::End { .. },
            ..
        }
    ));
    let texts: Vec<String> = reports
        .iter()
        .map(|r| match &r.message {
            Outgoing::Progress {
                progress: Progress::Report { message, .. },
                ..
            } => message.clone().expect("reports carry text"),
            other => panic!("expected a report, got {other:?}"),
        })
        .collect();
    assert!(texts.len() <= 11, "{} reports for one second", texts.len());
    let times: Vec<Instant> = reports.iter().map(|r| r.at).collect();
    assert_at_most_per_second(&times, 10);
    assert_eq!(
        texts.last().map(String::as_str),
        Some("999"),
        "the latest report precedes end"
    );
    assert_eq!(
        texts.first().map(String::as_str),
        Some("0"),
        "the first report is not delayed"
    );
}

#[tokio::test(start_paused = true)]
async fn reports_never_precede_begin_or_follow_end() {
    let mut editor = Editor::new(Limits::default());
    editor.stall_with_one_in_flight().await;
    editor.outbox.push(report("r1", "before begin"));
    editor.outbox.push(begin("r1", "Run"));
    editor.outbox.push(report("r1", "inside"));
    editor.outbox.push(end("r1"));
    editor.outbox.push(report("r1", "after end"));
    editor.resume();
    editor.outbox.flush().await;

    let progress: Vec<Progress> = editor
        .messages()
        .into_iter()
        .filter_map(|m| match m {
            Outgoing::Progress { progress, .. } => Some(progress),
            _ => None,
        })
        .collect();
    assert_eq!(
        progress,
        vec![
            Progress::Begin {
                title: "Run".into(),
                message: None,
                percentage: None
            },
            Progress::Report {
                message: Some("inside".into()),
                percentage: None
            },
            Progress::End { message: None },
        ]
    );
    assert_eq!(editor.outbox.stats().dropped, 2);
}

#[tokio::test(start_paused = true)]
async fn begin_output_end_and_final_state_keep_their_order() {
    let mut editor = Editor::new(Limits::default());
    editor.stall_with_one_in_flight().await;
    editor.outbox.push(begin("r1", "Run"));
    editor.outbox.push(output("r1", "build", "compiling\n"));
    editor
        .outbox
        .push(state("r1", json!({"status": "running"}), false));
    editor.outbox.push(output("r1", "build", "done\n"));
    editor.outbox.push(end("r1"));
    editor
        .outbox
        .push(state("r1", json!({"status": "completed"}), true));
    editor.resume();
    editor.outbox.flush().await;

    let kinds: Vec<String> = editor
        .messages()
        .into_iter()
        .skip(1) // the warm-up notice
        .map(|m| match m {
            Outgoing::Output { text, .. } => format!("output {text:?}"),
            Outgoing::Progress {
                progress: Progress::Begin { .. },
                ..
            } => "begin".into(),
            Outgoing::Progress {
                progress: Progress::End { .. },
                ..
            } => "end".into(),
            Outgoing::State {
                state, is_final, ..
            } => format!("state {state} final={is_final}"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // The running state is superseded by the final one pushed after it.
    assert_eq!(
        kinds,
        vec![
            "begin".to_owned(),
            r#"output "compiling\ndone\n""#.into(),
            "end".into(),
            r#"state {"status":"completed"} final=true"#.into(),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn concurrent_steps_keep_their_own_order() {
    let editor = Editor::new(Limits::default());
    let (mut a, mut b) = (String::new(), String::new());
    for i in 0..500 {
        let (ta, tb) = (format!("a{i} "), format!("b{i} "));
        a.push_str(&ta);
        b.push_str(&tb);
        editor.outbox.push(output("r1", "claude", ta));
        editor.outbox.push(output("r1", "gpt", tb));
        if i % 50 == 49 {
            sleep(Duration::from_millis(20)).await;
        }
    }
    editor.outbox.flush().await;

    let outputs = editor.outputs("r1");
    let of = |step: &str| -> String {
        outputs
            .iter()
            .filter(|o| o.1 == step)
            .map(|o| o.2.as_str())
            .collect()
    };
    assert_eq!(of("claude"), a);
    assert_eq!(of("gpt"), b);
    let seqs: Vec<u64> = outputs.iter().map(|o| o.3).collect();
    assert_eq!(seqs, (0..outputs.len() as u64).collect::<Vec<_>>());
    let times: Vec<Instant> = outputs.iter().map(|o| o.0).collect();
    assert_at_most_per_second(&times, 20);
}

#[tokio::test(start_paused = true)]
async fn runs_are_paced_independently() {
    let editor = Editor::new(Limits::default());
    for i in 0..100 {
        editor.outbox.push(output("r1", "s", format!("{i}")));
        editor.outbox.push(output("r2", "s", format!("{i}")));
        sleep(Duration::from_millis(10)).await;
    }
    editor.outbox.flush().await;
    for run in ["r1", "r2"] {
        let times: Vec<Instant> = editor.outputs(run).iter().map(|o| o.0).collect();
        assert_at_most_per_second(&times, 20);
        // One run's slots are not taken by the other: each gets ~20 a second.
        assert!(times.len() >= 19, "{run}: {} messages", times.len());
    }
}

#[tokio::test(start_paused = true)]
async fn identical_consecutive_notices_are_sent_once() {
    let editor = Editor::new(Limits::default());
    for text in [
        "tests failed",
        "tests failed",
        "tests failed",
        "fixed",
        "tests failed",
    ] {
        editor.outbox.push(notice("window/showMessage", text));
    }
    editor.outbox.flush().await;
    // Long after, the same message is news again.
    sleep(Duration::from_secs(60)).await;
    editor
        .outbox
        .push(notice("window/showMessage", "tests failed"));
    editor.outbox.flush().await;

    let texts: Vec<String> = editor
        .messages()
        .into_iter()
        .map(|m| match m {
            Outgoing::Notice { params, .. } => {
                params["message"].as_str().unwrap_or_default().to_owned()
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        texts,
        ["tests failed", "fixed", "tests failed", "tests failed"]
    );
    assert_eq!(editor.outbox.stats().coalesced, 2);
}

#[tokio::test(start_paused = true)]
async fn unchanged_state_is_not_resent() {
    let editor = Editor::new(Limits::default());
    editor
        .outbox
        .push(state("r1", json!({"status": "running"}), false));
    editor.outbox.flush().await;
    editor
        .outbox
        .push(state("r1", json!({"status": "running"}), false));
    editor.outbox.flush().await;
    assert_eq!(editor.messages().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn state_pushed_after_a_final_state_follows_it() {
    let mut editor = Editor::new(Limits::default());
    editor.stall();
    editor.outbox.push(output("r1", "test", "running tests\n"));
    editor.next_handed().await; // and the next output slot is 50 ms away
    editor.outbox.push(output("r1", "test", "FAILED\n"));
    editor
        .outbox
        .push(state("r1", json!({"status": "failed"}), true));
    // The user retries at once: the run is live again.
    editor
        .outbox
        .push(state("r1", json!({"status": "running"}), false));
    editor.resume();
    editor.outbox.flush().await;

    let states: Vec<String> = editor
        .messages()
        .into_iter()
        .filter_map(|m| match m {
            Outgoing::State {
                state, is_final, ..
            } => Some(format!("{} {is_final}", state["status"])),
            _ => None,
        })
        .collect();
    assert_eq!(states, [r#""failed" true"#, r#""running" false"#]);
}

/// What the editor saw of one run as short labels: `begin`, `report <msg>`,
/// `end`, `notice <msg>`.
fn labels(editor: &Editor) -> Vec<String> {
    editor
        .messages()
        .into_iter()
        .filter_map(|m| match m {
            Outgoing::Progress { progress, .. } => Some(match progress {
                Progress::Begin { .. } => "begin".to_owned(),
                Progress::Report { message, .. } => {
                    format!("report {}", message.unwrap_or_default())
                }
                Progress::End { .. } => "end".to_owned(),
            }),
            Outgoing::Notice { params, .. } => Some(format!(
                "notice {}",
                params["message"].as_str().unwrap_or("")
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn run_notice_waits_for_the_latest_report_and_the_end() {
    // A report held back by the rate when the run ends: the plain notice
    // jumps ahead of it, the run notice does not.
    let limits = Limits {
        progress_per_second: 1,
        ..Limits::default()
    };
    let editor = Editor::new(limits);
    editor.outbox.push(begin("r1", "Run"));
    editor.outbox.push(report("r1", "step 1/2"));
    editor.outbox.flush().await;
    editor.outbox.push(report("r1", "step 2/2"));
    editor.outbox.push(end("r1"));
    editor.outbox.push(run_notice("r1", "completed"));
    editor
        .outbox
        .push(notice("window/showMessage", "unrelated"));
    editor.outbox.flush().await;
    assert_eq!(
        labels(&editor),
        [
            "begin",
            "report step 1/2",
            "notice unrelated",
            "report step 2/2",
            "end",
            "notice completed"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn run_notice_without_progress_leaves_after_what_came_before() {
    let editor = Editor::new(Limits::default());
    editor.outbox.push(output("r1", "test", "last line\n"));
    editor
        .outbox
        .push(state("r1", json!({"status": "completed"}), true));
    editor.outbox.push(run_notice("r1", "completed"));
    editor.outbox.flush().await;
    let kinds: Vec<&str> = editor
        .messages()
        .iter()
        .map(|m| match m {
            Outgoing::Output { .. } => "output",
            Outgoing::State { .. } => "state",
            Outgoing::Notice { .. } => "notice",
            Outgoing::Progress { .. } => "progress",
        })
        .collect();
    assert_eq!(kinds, ["output", "state", "notice"]);
}
