//! Random scripts of pushes, pauses and editor stalls, checked against what
//! the outbox promises: nothing lost under the bounds, fences in place,
//! latest-wins where it applies, rates kept, and `flush` always returns.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use agentls_stream::{Limits, Outgoing, Progress};
use proptest::prelude::*;
use serde_json::json;
use support::*;
use tokio::time::{sleep, Instant};

#[derive(Debug, Clone)]
enum Op {
    Output { run: u8, step: u8, len: u16 },
    Begin(u8),
    Report(u8),
    End(u8),
    State { run: u8, is_final: bool },
    Notice(u8),
    RunNotice(u8),
    Sleep(u16),
    Stall,
    Resume,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3u8, 0..2u8, 1..200u16).prop_map(|(run, step, len)| Op::Output { run, step, len }),
        1 => (0..3u8).prop_map(Op::Begin),
        3 => (0..3u8).prop_map(Op::Report),
        1 => (0..3u8).prop_map(Op::End),
        2 => (0..3u8, any::<bool>()).prop_map(|(run, is_final)| Op::State { run, is_final }),
        1 => (0..2u8).prop_map(Op::Notice),
        1 => (0..3u8).prop_map(Op::RunNotice),
        3 => (0..120u16).prop_map(Op::Sleep),
        1 => Just(Op::Stall),
        1 => Just(Op::Resume),
    ]
}

/// What a run was pushed, as the checks need it.
#[derive(Default)]
struct Pushed {
    text: HashMap<String, String>,
    bytes: usize,
    open: Option<u64>,
    generations: u64,
    /// Begin and end in push order: (is_begin, output bytes pushed before).
    fences: Vec<(bool, usize)>,
    /// The last report pushed in each generation that was ended.
    last_report: HashMap<u64, String>,
    ended: Vec<u64>,
    /// Final states: op index -> output bytes pushed before.
    finals: HashMap<u64, usize>,
    last_state: Option<u64>,
    /// Run notices: (text, what had to be delivered before it: output
    /// bytes, begin/end fences, the last final state pushed before it).
    notices: Vec<(String, usize, usize, Option<u64>)>,
    last_final: Option<u64>,
}

fn run_script(ops: Vec<Op>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a test runtime");
    runtime.block_on(async move {
        let editor = Editor::new(Limits::default());
        let mut runs: HashMap<String, Pushed> = HashMap::new();
        let mut notices: Vec<String> = Vec::new();
        let mut last_notice: Option<(String, Instant)> = None;
        for (i, op) in ops.into_iter().enumerate() {
            let i = i as u64;
            let name = |run: u8| format!("r{run}");
            match op {
                Op::Output { run, step, len } => {
                    let text: String =
                        format!("<{i}>").repeat(usize::from(len))[..usize::from(len)].to_owned();
                    let pushed = runs.entry(name(run)).or_default();
                    pushed
                        .text
                        .entry(format!("s{step}"))
                        .or_default()
                        .push_str(&text);
                    pushed.bytes += text.len();
                    editor
                        .outbox
                        .push(output(&name(run), &format!("s{step}"), text));
                }
                Op::Begin(run) => {
                    let pushed = runs.entry(name(run)).or_default();
                    pushed.generations += 1;
                    pushed.open = Some(pushed.generations);
                    pushed.fences.push((true, pushed.bytes));
                    editor.outbox.push(begin(&name(run), "work"));
                }
                Op::Report(run) => {
                    let pushed = runs.entry(name(run)).or_default();
                    if let Some(generation) = pushed.open {
                        pushed.last_report.insert(generation, format!("{i}"));
                    }
                    editor.outbox.push(report(&name(run), format!("{i}")));
                }
                Op::End(run) => {
                    let pushed = runs.entry(name(run)).or_default();
                    if let Some(generation) = pushed.open.take() {
                        pushed.fences.push((false, pushed.bytes));
                        pushed.ended.push(generation);
                    }
                    editor.outbox.push(end(&name(run)));
                }
                Op::State { run, is_final } => {
                    let pushed = runs.entry(name(run)).or_default();
                    if is_final {
                        pushed.finals.insert(i, pushed.bytes);
                        pushed.last_final = Some(i);
                    }
                    pushed.last_state = Some(i);
                    editor
                        .outbox
                        .push(state(&name(run), json!({ "n": i }), is_final));
                }
                Op::Notice(n) => {
                    let text = format!("notice {n}");
                    let now = Instant::now();
                    let repeat = last_notice.as_ref().is_some_and(|(last, at)| {
                        *last == text
                            && now.duration_since(*at) < Limits::default().notice_repeat_after
                    });
                    if !repeat {
                        notices.push(text.clone());
                        last_notice = Some((text.clone(), now));
                    }
                    editor.outbox.push(notice("window/showMessage", &text));
                }
                Op::RunNotice(run) => {
                    let pushed = runs.entry(name(run)).or_default();
                    let text = format!("run notice {} {i}", name(run));
                    let before = (pushed.bytes, pushed.fences.len(), pushed.last_final);
                    pushed
                        .notices
                        .push((text.clone(), before.0, before.1, before.2));
                    editor.outbox.push(run_notice(&name(run), &text));
                }
                Op::Sleep(ms) => sleep(Duration::from_millis(u64::from(ms))).await,
                Op::Stall => editor.stall(),
                Op::Resume => editor.resume(),
            }
        }
        editor.resume();
        tokio::time::timeout(Duration::from_secs(3600), editor.outbox.flush())
            .await
            .expect("flush returns once the editor keeps up");

        let received = editor.received();
        let delivered_notices: Vec<String> = received
            .iter()
            .filter_map(|r| match &r.message {
                Outgoing::Notice { params, .. } => params["message"]
                    .as_str()
                    .filter(|m| !m.starts_with("run notice"))
                    .map(str::to_owned),
                _ => None,
            })
            .collect();
        assert_eq!(delivered_notices, notices);
        let stats = editor.outbox.stats();
        assert_eq!((stats.pending_bytes, stats.skipped_bytes), (0, 0));

        for (run, pushed) in &runs {
            check_run(run, pushed, &received);
            check_run_notices(run, pushed, &received);
        }
    });
}

/// Each run notice arrives once, after everything its run pushed before it:
/// output bytes, begins and ends, the final state (consecutive final states
/// are latest-wins, so the last one before the notice).
fn check_run_notices(run: &str, pushed: &Pushed, received: &[Received]) {
    let (mut bytes, mut fences, mut finals) = (0, 0, Vec::new());
    let mut seen = Vec::new();
    for r in received {
        match &r.message {
            Outgoing::Output { run: r, text, .. } if r == run => bytes += text.len(),
            Outgoing::Progress {
                key: r,
                progress: Progress::Begin { .. } | Progress::End { .. },
            } if r == run => fences += 1,
            Outgoing::State {
                run: r,
                is_final: true,
                state,
            } if r == run => finals.extend(state["n"].as_u64()),
            Outgoing::Notice { params, .. } => {
                let Some(text) = params["message"].as_str() else {
                    continue;
                };
                let Some((_, b, f, n)) = pushed.notices.iter().find(|(t, ..)| t == text) else {
                    continue;
                };
                assert!(
                    bytes >= *b && fences >= *f && n.is_none_or(|n| finals.contains(&n)),
                    "{run}: {text} overtook what came before it"
                );
                seen.push(text.to_owned());
            }
            _ => {}
        }
    }
    let pushed_texts: Vec<String> = pushed.notices.iter().map(|(t, ..)| t.clone()).collect();
    assert_eq!(seen, pushed_texts, "{run}: every run notice once, in order");
}

fn check_run(run: &str, pushed: &Pushed, received: &[Received]) {
    let mine = received.iter().filter(|r| match &r.message {
        Outgoing::Output { run: r, .. }
        | Outgoing::Progress { key: r, .. }
        | Outgoing::State { run: r, .. } => r == run,
        Outgoing::Notice { .. } => false,
    });
    let mut bytes = 0;
    let mut text: HashMap<String, String> = HashMap::new();
    let mut fences = Vec::new();
    let mut open = false;
    let mut last_report: Option<String> = None;
    let mut last_reports = Vec::new();
    let mut states = Vec::new();
    let (mut seq, mut last_output, mut last_report_at, mut last_state_at) = (0, None, None, None);
    for r in mine {
        match &r.message {
            Outgoing::Output {
                step,
                text: t,
                seq: s,
                ..
            } => {
                assert_eq!(*s, seq, "{run}: seq without gaps");
                seq += 1;
                assert!(
                    last_output.is_none_or(|at| r.at - at >= Duration::from_millis(50)),
                    "{run}: output rate"
                );
                last_output = Some(r.at);
                bytes += t.len();
                text.entry(step.clone()).or_default().push_str(t);
            }
            Outgoing::Progress { progress, .. } => match progress {
                Progress::Begin { .. } => {
                    fences.push((true, bytes));
                    open = true;
                    last_report = None;
                }
                Progress::Report { message, .. } => {
                    assert!(open, "{run}: report outside begin/end");
                    assert!(
                        last_report_at.is_none_or(|at| r.at - at >= Duration::from_millis(100)),
                        "{run}: report rate"
                    );
                    last_report_at = Some(r.at);
                    last_report = message.clone();
                }
                Progress::End { .. } => {
                    fences.push((false, bytes));
                    open = false;
                    last_reports.push(last_report.take());
                }
            },
            Outgoing::State {
                state, is_final, ..
            } => {
                let n = state["n"].as_u64().expect("states carry their op index");
                if *is_final {
                    assert_eq!(
                        pushed.finals.get(&n),
                        Some(&bytes),
                        "{run}: final state after exactly the output pushed before it"
                    );
                } else {
                    assert!(
                        last_state_at.is_none_or(|at| r.at - at >= Duration::from_millis(100)),
                        "{run}: state rate"
                    );
                    last_state_at = Some(r.at);
                }
                states.push(n);
            }
            Outgoing::Notice { .. } => unreachable!("filtered out"),
        }
    }
    let nonempty: HashMap<String, String> = pushed.text.clone();
    assert_eq!(text, nonempty, "{run}: every step's output, in order");
    assert_eq!(
        fences, pushed.fences,
        "{run}: begin/end in order, each after exactly the output pushed before it"
    );
    for (generation, delivered) in pushed.ended.iter().zip(&last_reports) {
        if let Some(expected) = pushed.last_report.get(generation) {
            assert_eq!(
                delivered.as_ref(),
                Some(expected),
                "{run}: the latest report precedes its end"
            );
        }
    }
    assert!(
        states.windows(2).all(|w| w[0] < w[1]),
        "{run}: states in push order: {states:?}"
    );
    assert_eq!(
        states.last().copied(),
        pushed.last_state,
        "{run}: the latest state is delivered"
    );
    if let Some(last_final) = pushed.finals.keys().max() {
        assert!(
            states.contains(last_final),
            "{run}: the last final state is delivered"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_scripts_keep_every_promise(ops in prop::collection::vec(op(), 1..150)) {
        run_script(ops);
    }
}
