//! The README's demo workspace (examples/demo) runs offline through the CLI,
//! its model answer replayed from the shipped cassette; `--record` tapes it.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::TestEnv;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn demo_workspace(env: &TestEnv) -> std::path::PathBuf {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo");
    let ws = env.root().join("demo");
    copy_dir(&examples, &ws);
    ws
}

fn report(out: &Output) -> String {
    format!(
        "{:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_demo_runs_offline_and_replays_the_recorded_answer() {
    let env = TestEnv::new();
    let ws = demo_workspace(&env);
    let tape = env.root().join("tape.json");
    let out = env
        .command()
        .current_dir(&ws)
        .args(["run", "tour", "--trust", "--json", "--record"])
        .arg(&tape)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", report(&out));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cassette: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("cassette.json")).unwrap()).unwrap();
    let recorded: String = cassette["entries"][0]["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let explain = &run["steps"][1];
    assert_eq!(explain["step_id"], "explain");
    assert_eq!(explain["output"].as_str().unwrap(), recorded);
    assert_eq!(
        explain["usage"]["output_tokens"],
        cassette["entries"][0]["usage"]["output_tokens"]
    );
    assert!(run["steps"][3]["output"]
        .as_str()
        .unwrap()
        .contains(&format!("{} characters", recorded.chars().count())));

    // The agent read NOTES.md, checked the tour off, and counted what is
    // left with a real command; its answer is the step's output.
    let notes = &run["steps"][4];
    assert_eq!(notes["step_id"], "notes");
    assert_eq!(notes["status"], "completed", "{notes}");
    assert_eq!(
        notes["output"], cassette["entries"][4]["text"],
        "the final answer is the output"
    );
    assert_eq!(
        std::fs::read_to_string(ws.join("NOTES.md")).unwrap(),
        "# Notes\n\n- [x] take the tour (`scripts/demo.sh`)\n- [ ] read docs/workflows.md\n"
    );
    let live = String::from_utf8_lossy(&out.stderr);
    for line in [
        "▸ read NOTES.md",
        "▸ edit NOTES.md +1 −1",
        "▸ run grep -c '^- \\[ \\]' NOTES.md (exit 0",
    ] {
        assert!(
            live.contains(line),
            "`{line}` not in the live output:\n{live}"
        );
    }

    // --record taped the stream again, chunk for chunk.
    let taped: Value = serde_json::from_str(&std::fs::read_to_string(&tape).unwrap()).unwrap();
    assert_eq!(
        taped["entries"][0]["chunks"],
        cassette["entries"][0]["chunks"]
    );
    // ... and the agent's turns with their tool calls.
    let calls: Vec<&str> = taped["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["tool_calls"][0]["name"].as_str())
        .collect();
    assert_eq!(calls, ["read_file", "edit_file", "run_command"]);
}
