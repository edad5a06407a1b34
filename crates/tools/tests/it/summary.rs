//! The live view's one-line summaries, in the style of issue 11.

use std::time::Duration;

use agentls_exec::Termination;
use agentls_tools::{activity, summary, Invocation, Outcome, Tools};

fn read(path: &str, start: Option<usize>, end: Option<usize>) -> Invocation {
    Invocation::ReadFile {
        path: path.into(),
        start_line: start,
        end_line: end,
    }
}

#[test]
fn each_tool_has_its_line() {
    let cases = [
        (
            read("src/lib.rs", None, None),
            Outcome::Read,
            "read src/lib.rs",
        ),
        (
            read("src/lib.rs", Some(10), Some(40)),
            Outcome::Read,
            "read src/lib.rs:10-40",
        ),
        (
            read("src/lib.rs", Some(10), None),
            Outcome::Read,
            "read src/lib.rs:10-",
        ),
        (
            Invocation::ListFiles {
                path: Some("src".into()),
                glob: None,
            },
            Outcome::Listed { files: 42 },
            "list src (42 files)",
        ),
        (
            Invocation::ListFiles {
                path: None,
                glob: Some("*.rs".into()),
            },
            Outcome::Listed { files: 1 },
            "list . *.rs (1 file)",
        ),
        (
            Invocation::Search {
                pattern: "fn main".into(),
                path: None,
                glob: None,
            },
            Outcome::Searched { matches: 3 },
            "search \"fn main\" (3 matches)",
        ),
        (
            Invocation::EditFile {
                path: "src/lib.rs".into(),
                old_text: "a".into(),
                new_text: "b".into(),
            },
            Outcome::Changed {
                added: 3,
                removed: 1,
            },
            "edit src/lib.rs +3 −1",
        ),
        (
            Invocation::WriteFile {
                path: "src/new.rs".into(),
                content: "x\n".repeat(12),
            },
            Outcome::Changed {
                added: 12,
                removed: 0,
            },
            "write src/new.rs (12 lines)",
        ),
        (
            Invocation::RunCommand {
                command: "cargo test".into(),
                timeout: None,
            },
            Outcome::Ran {
                termination: Termination::Exited(101),
                duration: Duration::from_millis(2100),
            },
            "run cargo test (exit 101, 2.1 s)",
        ),
        (
            Invocation::RunCommand {
                command: "sleep 100".into(),
                timeout: None,
            },
            Outcome::Ran {
                termination: Termination::TimedOut,
                duration: Duration::from_secs(5),
            },
            "run sleep 100 (timed out, 5.0 s)",
        ),
        (
            Invocation::RunCommand {
                command: "rm -rf /".into(),
                timeout: None,
            },
            Outcome::Failed("rejected".into()),
            "run rm -rf /: rejected",
        ),
    ];
    for (invocation, outcome, expected) in cases {
        assert_eq!(summary(&invocation, &outcome), expected);
    }
}

#[test]
fn a_refused_call_says_why_in_a_few_words() {
    let tmp = tempfile::TempDir::new().unwrap();
    let tools = Tools::new(tmp.path()).unwrap();
    let invocation = read("../etc/passwd", None, None);
    let err = tools
        .read_file("../etc/passwd", None, None, None)
        .unwrap_err();
    assert_eq!(
        summary(&invocation, &Outcome::Failed(err.short())),
        "read ../etc/passwd: refused (outside the workspace)"
    );
}

#[test]
fn long_and_multi_line_commands_are_shortened() {
    let invocation = Invocation::RunCommand {
        command: format!("echo {}\necho two", "a".repeat(100)),
        timeout: None,
    };
    let line = summary(&invocation, &Outcome::Failed("rejected".into()));
    assert_eq!(line, format!("run echo {}…: rejected", "a".repeat(55)));
}

#[test]
fn a_running_call_says_what_it_is_doing() {
    let run = Invocation::RunCommand {
        command: "cargo test".into(),
        timeout: None,
    };
    assert_eq!(activity(&run), "running cargo test");
    assert_eq!(
        activity(&read("src/lib.rs", Some(3), None)),
        "reading src/lib.rs"
    );
    let list = Invocation::ListFiles {
        path: None,
        glob: None,
    };
    assert_eq!(activity(&list), "listing .");
    let edit = Invocation::EditFile {
        path: "a.rs".into(),
        old_text: "x".into(),
        new_text: "y".into(),
    };
    assert_eq!(activity(&edit), "editing a.rs");
}
