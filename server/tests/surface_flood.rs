//! A flooding step does not flood the editor: per run at most 20
//! `agent/output` notifications and 10 progress reports a second reach it
//! (one more at a window's edge), and the output's text arrives whole.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{file_uri, progress_of, InitParams, ServerOptions, TestEnv, TestServer};

const LINES: usize = 50_000;

/// 50,000 lines, one `write` each (dash's builtin echo), as fast as it can.
const FLOOD: &str = r#"
title = "Flood"
[[steps]]
id = "flood"
run = "i=0; while [ $i -lt 50000 ]; do echo \"line $i\"; i=$((i+1)); done"
"#;

/// Many quick steps: many progress reports and states in a short time.
fn many_steps(n: usize) -> String {
    let mut toml = String::from("title = \"Many steps\"\n");
    for i in 0..n {
        toml.push_str(&format!(
            "[[steps]]\nid = \"s{i}\"\ntitle = \"step number {i}\"\nrun = \"true\"\n"
        ));
    }
    toml
}

fn server(workflows: &[(&str, &str)]) -> (TestServer, String) {
    let env = TestEnv::new();
    let folder = env.mkdir("ws");
    // Plain pipes: the text is exactly what the program printed (a PTY
    // would turn \n into \r\n).
    env.write("ws/.agentls/config.toml", "[exec]\npty = false\n");
    for (name, toml) in workflows {
        env.user_workflow(name, toml);
    }
    let file = env.write("ws/notes.txt", "notes\n");
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().run_events().folder(&folder).build());
    (server, file_uri(&file))
}

/// Arrival times of the notifications `method` whose params match.
fn arrivals(server: &TestServer, method: &str, pred: impl Fn(&Value) -> bool) -> Vec<Instant> {
    server.with_recorded(|r| {
        r.notifications
            .iter()
            .filter(|n| n.method == method && pred(&n.params))
            .map(|n| n.received)
            .collect()
    })
}

/// The most notifications that arrived within any one second.
fn max_per_second(times: &[Instant]) -> usize {
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| t.duration_since(times[i]) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn fifty_thousand_chunks_arrive_whole_at_most_twenty_notifications_a_second() {
    let (server, uri) = server(&[("flood", FLOOD)]);
    let run = server.start_run(json!({"workflow": "flood", "uri": uri}));
    server.wait_state_within(&run, "completed", Duration::from_secs(60));

    let expected: String = (0..LINES).map(|i| format!("line {i}\n")).collect();
    let got = server.output_text(&run);
    assert_eq!(got.len(), expected.len(), "output length");
    assert!(
        got == expected,
        "the joined agent/output text differs from what the step printed"
    );

    let outputs = arrivals(&server, "agent/output", |p| p["runId"] == run);
    let peak = max_per_second(&outputs);
    assert!(
        peak <= 21,
        "{peak} agent/output notifications within one second"
    );
    let states = arrivals(&server, "agent/state", |p| p["runId"] == run);
    assert!(max_per_second(&states) <= 11, "agent/state flooded");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn progress_reports_are_paced_latest_wins_and_framed_by_begin_and_end() {
    let steps = many_steps(200);
    let (server, uri) = server(&[("many", &steps)]);
    let run = server.start_run_with_token(json!({"workflow": "many", "uri": uri}), "tok-many");
    server.wait_state_within(&run, "completed", Duration::from_secs(60));
    let token = json!("tok-many");
    let values = server.wait_progress_end(&token);
    assert_eq!(values.first().map(|v| &v["kind"]), Some(&json!("begin")));
    assert_eq!(values.last().map(|v| &v["kind"]), Some(&json!("end")));
    assert_eq!(values.last().unwrap()["message"], "completed");
    assert_eq!(
        values.iter().filter(|v| v["kind"] == "begin").count(),
        1,
        "one progress per run: {values:?}"
    );
    let reports: Vec<&Value> = values.iter().filter(|v| v["kind"] == "report").collect();
    for report in &reports {
        let message = report["message"].as_str().unwrap_or("");
        assert!(
            message.starts_with("step ") && message.contains("/200: step number "),
            "{message}"
        );
    }
    let percentages: Vec<u64> = reports
        .iter()
        .filter_map(|r| r["percentage"].as_u64())
        .collect();
    assert!(
        percentages.windows(2).all(|w| w[0] <= w[1]),
        "percentages rise: {percentages:?}"
    );

    let report_times = arrivals(&server, "$/progress", |p| {
        p["token"] == token && p["value"]["kind"] == "report"
    });
    let peak = max_per_second(&report_times);
    assert!(peak <= 11, "{peak} progress reports within one second");
    // 400 step transitions were coalesced, not queued.
    assert!(
        reports.len() < 400,
        "{} reports for 400 transitions",
        reports.len()
    );
    assert_eq!(
        progress_of(&server.notifications("$/progress"), &token).len(),
        values.len()
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
