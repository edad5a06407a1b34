//! Property tests: garbage never panics or escapes, and diffs written by an
//! independent implementation (diffy) always apply back exactly.

use std::os::unix::fs::symlink;

use agentls_edit::Patch;
use proptest::prelude::*;

use crate::{snapshot, Sandbox};

/// Lines a diff is made of, and some that only look like it.
fn diffish_line() -> impl Strategy<Value = String> {
    let path = prop::sample::select(vec![
        "f.txt",
        "a/f.txt",
        "b/f.txt",
        "../outside/secret.txt",
        "link/secret.txt",
        "link/new.txt",
        ".git/config",
        "/etc/passwd",
        "new/dir/g.txt",
        "/dev/null",
        "\"a/q\\\"uo\\303\\251\"",
        "",
    ]);
    let body = "[ab}{ \\t]{0,4}";
    prop_oneof![
        path.clone().prop_map(|p| format!("--- {p}")),
        path.clone().prop_map(|p| format!("+++ {p}")),
        (path.clone(), path).prop_map(|(a, b)| format!("diff --git {a} {b}")),
        (0usize..12, 0usize..5, 0usize..12, 0usize..5)
            .prop_map(|(a, b, c, d)| format!("@@ -{a},{b} +{c},{d} @@")),
        Just("@@ @@".to_owned()),
        Just("@@ -99999999999999999999 +1 @@".to_owned()),
        body.prop_map(|t| format!(" {t}")),
        body.prop_map(|t| format!("-{t}")),
        body.prop_map(|t| format!("+{t}")),
        Just("\\ No newline at end of file".to_owned()),
        Just("new file mode 100644".to_owned()),
        Just("deleted file mode 100644".to_owned()),
        Just("rename from f.txt".to_owned()),
        Just("rename to ../outside/x".to_owned()),
        Just("```".to_owned()),
        Just(String::new()),
        ".{0,8}",
    ]
}

fn diffish() -> impl Strategy<Value = String> {
    (prop::collection::vec(diffish_line(), 0..24), any::<bool>())
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(patch) = Patch::parse(&text) {
            for file in patch.files() {
                let _ = file.apply_to(None);
                let _ = file.apply_to(Some("a\nb\n"));
            }
        }
    }

    #[test]
    fn diff_like_text_never_panics(text in diffish()) {
        if let Ok(patch) = Patch::parse(&text) {
            for file in patch.files() {
                for original in [None, Some(""), Some("a\n}\nb"), Some("a\r\n\r\n}\r\n")] {
                    let _ = file.apply_to(original);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whatever a patch says, nothing outside the root or inside .git changes.
    #[test]
    fn fuzzed_patches_stay_inside_the_workspace(text in diffish()) {
        let sb = Sandbox::new();
        sb.put("f.txt", "a\n}\nb\n");
        sb.put(".git/config", "a\n");
        symlink(&sb.outside, sb.root.join("link")).unwrap();
        let git_before = snapshot(&sb.root.join(".git"));
        let _ = sb.ws.apply_patch(&text);
        sb.assert_outside_untouched();
        prop_assert_eq!(snapshot(&sb.root.join(".git")), git_before);
    }
}

/// Lines from a small alphabet, so that texts repeat lines and hunks could
/// match in several places.
fn line() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "}", "", "  x", "fn f() {", "\tt", "b "])
        .prop_map(str::to_owned)
}

#[derive(Debug, Clone)]
enum Op {
    Keep,
    Delete,
    Replace(String),
    InsertAfter(String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Keep),
        1 => Just(Op::Delete),
        1 => line().prop_map(Op::Replace),
        1 => line().prop_map(Op::InsertAfter),
    ]
}

/// Joins lines with `eol`, with or without a final newline.
fn join(lines: &[String], eol: &str, final_newline: bool) -> String {
    let mut text = lines.join(eol);
    if final_newline && !lines.is_empty() {
        text.push_str(eol);
    }
    text
}

fn edit(original: &[String], ops: &[Op], prefix: &[String]) -> Vec<String> {
    let mut out = prefix.to_vec();
    for (line, op) in original.iter().zip(ops.iter().cycle()) {
        match op {
            Op::Keep => out.push(line.clone()),
            Op::Delete => {}
            Op::Replace(new) => out.push(new.clone()),
            Op::InsertAfter(new) => {
                out.push(line.clone());
                out.push(new.clone());
            }
        }
    }
    out
}

fn diffy_patch(original: &str, modified: &str) -> String {
    let mut options = diffy::DiffOptions::new();
    options
        .set_original_filename("a/f.txt")
        .set_modified_filename("b/f.txt");
    options.create_patch(original, modified).to_string()
}

/// Removes spaces and tabs at the end of every line, keeping line endings.
fn strip_trailing_blanks(text: &str) -> String {
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| match line.strip_suffix('\r') {
            Some(body) => format!("{}\r", body.trim_end_matches([' ', '\t'])),
            None => line.trim_end_matches([' ', '\t']).to_owned(),
        })
        .collect();
    lines.join("\n")
}

/// Moves every hunk header's old start by `shift` lines, or removes the
/// numbers altogether when `shift` is `None`.
fn skew_headers(patch: &str, shift: Option<i64>) -> String {
    patch
        .lines()
        .map(|line| match (line.strip_prefix("@@ -"), shift) {
            (Some(_), None) => "@@ @@\n".to_owned(),
            (Some(rest), Some(shift)) => {
                let digits = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                let start: i64 = rest[..digits].parse().unwrap();
                format!("@@ -{}{}\n", (start + shift).max(0), &rest[digits..])
            }
            (None, _) => format!("{line}\n"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn diffy_patches_apply_back_exactly(
        original in prop::collection::vec(line(), 0..40),
        ops in prop::collection::vec(op(), 1..12),
        prefix in prop::collection::vec(line(), 0..3),
        crlf in any::<bool>(),
        old_newline in any::<bool>(),
        new_newline in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let before = join(&original, eol, old_newline);
        let after = join(&edit(&original, &ops, &prefix), eol, new_newline);
        let patch = diffy_patch(&before, &after);
        let parsed = Patch::parse(&patch).map_err(|e| TestCaseError::fail(format!("{e}\n{patch}")))?;
        prop_assert_eq!(parsed.files().len(), 1);
        let applied = parsed.files()[0]
            .apply_to(Some(&before))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{patch}")))?;
        prop_assert_eq!(applied.as_deref(), Some(after.as_str()), "patch:\n{}", patch);
    }

    /// Editors and models strip trailing whitespace from patches (turning
    /// " " context lines into empty ones). Such a patch applies with the
    /// right lines, or is refused as ambiguous; it never lands elsewhere.
    #[test]
    fn patches_stripped_of_trailing_whitespace_apply_or_refuse(
        original in prop::collection::vec(line(), 0..40),
        ops in prop::collection::vec(op(), 1..12),
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let before = join(&original, eol, true);
        let after = join(&edit(&original, &ops, &[]), eol, true);
        let patch = strip_trailing_blanks(&diffy_patch(&before, &after));
        let parsed = Patch::parse(&patch).map_err(|e| TestCaseError::fail(format!("{e}\n{patch}")))?;
        match parsed.files()[0].apply_to(Some(&before)) {
            Ok(applied) => prop_assert_eq!(
                strip_trailing_blanks(&applied.unwrap()),
                strip_trailing_blanks(&after),
                "patch:\n{}",
                patch
            ),
            Err(e) => prop_assert!(e.to_string().contains("context matches at lines"), "{}\n{}", e, patch),
        }
    }

    /// With distinct lines every hunk has one place to go, so wrong or
    /// missing line numbers must not matter.
    #[test]
    fn wrong_line_numbers_do_not_matter_when_lines_are_unique(
        len in 0usize..60,
        ops in prop::collection::vec(op(), 1..12),
        shift in prop::option::of(-25i64..25),
    ) {
        let original: Vec<String> = (0..len).map(|i| format!("old {i}")).collect();
        let mut fresh = 0;
        let ops: Vec<Op> = ops
            .into_iter()
            .map(|op| {
                fresh += 1;
                match op {
                    Op::Replace(_) => Op::Replace(format!("new {fresh}")),
                    Op::InsertAfter(_) => Op::InsertAfter(format!("new {fresh}")),
                    other => other,
                }
            })
            .collect();
        let edited = edit(&original, &ops, &[]);
        // `cycle` reuses ops, so make inserted lines unique once more.
        let edited: Vec<String> = edited
            .into_iter()
            .enumerate()
            .map(|(i, l)| if l.starts_with("new") { format!("{l}.{i}") } else { l })
            .collect();
        let before = join(&original, "\n", true);
        let after = join(&edited, "\n", true);
        let patch = skew_headers(&diffy_patch(&before, &after), shift);
        let parsed = Patch::parse(&patch).map_err(|e| TestCaseError::fail(format!("{e}\n{patch}")))?;
        let applied = parsed.files()[0]
            .apply_to(Some(&before))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{patch}")))?;
        prop_assert_eq!(applied.as_deref(), Some(after.as_str()), "patch:\n{}", patch);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The same round trip through the file system.
    #[test]
    fn diffy_patches_apply_back_on_disk(
        original in prop::collection::vec(line(), 0..20),
        ops in prop::collection::vec(op(), 1..6),
        old_newline in any::<bool>(),
        new_newline in any::<bool>(),
    ) {
        let before = join(&original, "\n", old_newline);
        let after = join(&edit(&original, &ops, &[]), "\n", new_newline);
        let sb = Sandbox::new();
        sb.put("f.txt", &before);
        let patch = diffy_patch(&before, &after);
        sb.ws.apply_patch(&patch).map_err(|e| TestCaseError::fail(format!("{e}\n{patch}")))?;
        prop_assert_eq!(sb.get("f.txt"), after);
    }
}
