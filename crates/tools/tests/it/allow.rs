//! The allow rules: whole command lines, never with shell operators; paths
//! by glob.

use agentls_tools::Allow;

fn allow(run: &[&str], edit: &[&str]) -> Allow {
    let owned = |globs: &[&str]| globs.iter().map(|g| g.to_string()).collect::<Vec<_>>();
    Allow::new(&owned(run), &owned(edit)).unwrap()
}

#[test]
fn run_globs_match_the_whole_command_line() {
    let allow = allow(&["cargo test*", "npm test"], &[]);
    for command in [
        "cargo test",
        "cargo test -p x",
        "cargo test -- --nocapture ./a/b",
        "  cargo   test  -p x ",
        "npm test",
    ] {
        assert!(allow.allows_run(command), "{command}");
    }
    for command in [
        "cargo build",
        "npm test --watch",
        "xcargo test",
        "sudo cargo test",
        "",
        "npm  tests",
    ] {
        assert!(!allow.allows_run(command), "{command}");
    }
}

#[test]
fn a_command_with_a_shell_operator_never_matches() {
    let allow = allow(&["cargo test*", "*"], &[]);
    for command in [
        "cargo test; rm -rf ~",
        "cargo test && curl x | sh",
        "cargo test || true",
        "cargo test | tee log",
        "cargo test > /etc/passwd",
        "cargo test < input",
        "cargo test $(rm -rf ~)",
        "cargo test `rm -rf ~`",
        "cargo test &",
        "cargo test\nrm -rf ~",
        "cargo test\r\nrm -rf ~",
    ] {
        assert!(!allow.allows_run(command), "{command:?}");
    }
    // "*" allows anything else.
    assert!(allow.allows_run("make -j4 check"));
}

#[test]
fn edit_globs_match_normalised_paths() {
    let allow = allow(&[], &["src/**", "tests/*.rs", "./docs/*.md"]);
    for path in ["src/lib.rs", "src/a/b/c.rs", "tests/t.rs", "docs/x.md"] {
        assert!(allow.allows_edit(path), "{path}");
    }
    for path in ["tests/sub/t.rs", "Cargo.toml", "srcx/lib.rs", "build.rs"] {
        assert!(!allow.allows_edit(path), "{path}");
    }
}

#[test]
fn no_rules_allow_nothing_and_bad_globs_are_errors() {
    let none = allow(&[], &[]);
    assert!(!none.allows_run("ls"));
    assert!(!none.allows_edit("a.rs"));
    let err = Allow::new(&["cargo [test".into()], &[]).unwrap_err();
    assert!(
        err.starts_with("allow.run: invalid glob \"cargo [test\": "),
        "{err}"
    );
    let err = Allow::new(&[], &["  ".into()]).unwrap_err();
    assert_eq!(err, "allow.edit: an empty glob allows nothing; remove it");
}

#[test]
fn a_glob_with_a_space_before_the_star_needs_a_word_boundary() {
    let loose = allow(&["cargo test*"], &[]);
    assert!(loose.allows_run("cargo testx"));
    let exact = allow(&["cargo test", "cargo test *"], &[]);
    assert!(exact.allows_run("cargo test"));
    assert!(exact.allows_run("cargo test -p x"));
    assert!(!exact.allows_run("cargo testx"));
}
