//! The same commands give the same text in both modes, byte for byte.

mod common;

use agentls_exec::{strip_ansi, ExecError, PtyMode, Termination};
use common::{assert_mode, capture, spec, Running, BOTH_MODES};

/// Under a terminal every `\n` arrives as `\r\n`; with pipes as written.
fn raw_for(mode: PtyMode, text: &str) -> Vec<u8> {
    match mode {
        PtyMode::Auto => text.replace('\n', "\r\n").into_bytes(),
        PtyMode::Off => text.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn short_output_is_the_same_in_both_modes() {
    for mode in BOTH_MODES {
        let (outcome, raw) = capture(spec("printf 'a\\nb\\n'", mode)).await;
        assert_mode(&outcome, mode);
        assert_eq!(raw, raw_for(mode, "a\nb\n"), "{mode:?}");
        assert_eq!(strip_ansi(&raw), "a\nb\n", "{mode:?}");
    }
}

#[tokio::test]
async fn a_megabyte_of_lines_arrives_byte_exact_in_both_modes() {
    let expected: String = (1..=200_000).map(|i| format!("{i}\n")).collect();
    assert!(expected.len() > 1024 * 1024);
    for mode in BOTH_MODES {
        let (outcome, raw) = capture(spec("seq 1 200000", mode)).await;
        assert_mode(&outcome, mode);
        assert_eq!(outcome.termination, Termination::Exited(0));
        let want = raw_for(mode, &expected);
        assert_eq!(raw.len(), want.len(), "{mode:?}: byte count");
        assert!(raw == want, "{mode:?}: bytes differ");
        let text = strip_ansi(&raw);
        assert_eq!(text.len(), expected.len(), "{mode:?}: text length");
        assert!(text == expected, "{mode:?}: text differs");
    }
}

#[tokio::test]
async fn stderr_is_merged_in_order_in_both_modes() {
    for mode in BOTH_MODES {
        let (outcome, raw) = capture(spec("echo out1; echo err1 >&2; echo out2", mode)).await;
        assert_mode(&outcome, mode);
        assert_eq!(strip_ansi(&raw), "out1\nerr1\nout2\n", "{mode:?}");
    }
}

#[tokio::test]
async fn colours_are_kept_raw_and_stripped_for_text() {
    for mode in BOTH_MODES {
        let (_, raw) = capture(spec("printf '\\033[31mred\\033[0m\\n'", mode)).await;
        assert!(raw.starts_with(b"\x1b[31mred\x1b[0m"), "{mode:?}: {raw:?}");
        assert_eq!(strip_ansi(&raw), "red\n", "{mode:?}");
    }
}

#[tokio::test]
async fn exit_codes_propagate_in_both_modes() {
    for mode in BOTH_MODES {
        let (outcome, _) = capture(spec("exit 7", mode)).await;
        assert_eq!(outcome.termination, Termination::Exited(7), "{mode:?}");
        assert_eq!(outcome.exit_code(), Some(7));
        assert!(!outcome.success());

        let (outcome, _) = capture(spec("true", mode)).await;
        assert!(outcome.success(), "{mode:?}");
    }
}

#[tokio::test]
async fn death_by_signal_is_reported_as_such() {
    for mode in BOTH_MODES {
        let (outcome, _) = capture(spec("kill -KILL $$", mode)).await;
        assert_eq!(outcome.termination, Termination::Signaled(9), "{mode:?}");
        assert_eq!(outcome.exit_code(), None);
    }
}

#[tokio::test]
async fn the_working_directory_is_honoured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let real = dir.path().canonicalize().expect("canonical temp dir");
    for mode in BOTH_MODES {
        let mut spec = spec("pwd -P", mode);
        spec.cwd = dir.path().to_path_buf();
        let (_, raw) = capture(spec).await;
        assert_eq!(
            strip_ansi(&raw),
            format!("{}\n", real.display()),
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_working_directory_is_an_error_not_a_fallback() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("gone");
    for mode in BOTH_MODES {
        let mut spec = spec("pwd", mode);
        spec.cwd = missing.clone();
        let (result, raw) = Running::start(spec).finish().await;
        match result {
            Err(ExecError::WorkingDirectory { path, .. }) => assert_eq!(path, missing),
            other => panic!("{mode:?}: expected a working directory error, got {other:?}"),
        }
        assert!(raw.is_empty());
    }
}

#[tokio::test]
async fn a_nul_in_the_command_line_is_a_clear_error_not_a_pty_fallback() {
    for mode in BOTH_MODES {
        let (result, raw) = Running::start(spec("echo a\0b", mode)).finish().await;
        match result {
            Err(err @ ExecError::Nul { .. }) => assert_eq!(
                err.to_string(),
                "the command line cannot contain a NUL byte (\\0)"
            ),
            other => panic!("{mode:?}: expected a NUL error, got {other:?}"),
        }
        assert!(raw.is_empty());
        let mut spec = spec("true", mode);
        spec.env.push(("BAD".into(), "a\0b".into()));
        let (result, _) = Running::start(spec).finish().await;
        assert!(
            matches!(&result, Err(ExecError::Nul { what }) if what == "environment variable BAD"),
            "{mode:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn env_is_added_and_removed_in_both_modes() {
    for mode in BOTH_MODES {
        let mut spec = spec(
            "printf '%s|%s|%s' \"$AGENTLS_TEST_VAR\" \"${HOME-unset}\" \"${ANTHROPIC_API_KEY-unset}\"",
            mode,
        );
        spec.env.push(("AGENTLS_TEST_VAR".into(), "added".into()));
        spec.remove_env.push("HOME".into());
        // Explicitly passed: wins over the default scrubbing.
        spec.env
            .push(("ANTHROPIC_API_KEY".into(), "passed-on-purpose".into()));
        let (_, raw) = capture(spec).await;
        assert_eq!(
            strip_ansi(&raw),
            "added|unset|passed-on-purpose",
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn a_dropped_receiver_does_not_stall_the_command() {
    for mode in BOTH_MODES {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        drop(rx);
        let cancel = agentls_exec::CancellationToken::new();
        let outcome = tokio::time::timeout(
            common::PATIENCE,
            agentls_exec::run(spec("seq 1 200000; exit 3", mode), tx, cancel),
        )
        .await
        .expect("run hung with nobody reading")
        .expect("command could not be run");
        assert_eq!(outcome.termination, Termination::Exited(3), "{mode:?}");
    }
}
