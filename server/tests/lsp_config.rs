//! Configuration: layering (defaults < user file < folder file < initializationOptions
//! < didChangeConfiguration) and broken folder config files (diagnostic at the error
//! line, a message naming the file, last good configuration kept, server serving).

mod support;

use std::path::PathBuf;

use serde_json::{json, Value};
use support::{file_uri, write_file, InitParams, ServerOptions, TestEnv, TestServer};

struct Workspace {
    server: TestServer,
    config_path: PathBuf,
    config_uri: String,
    /// A source file inside the folder, to ask `agent.config` about.
    file_uri: String,
}

/// One folder whose `.agentls/config.toml` holds `config`, initialized.
fn workspace_with_config(config: &str) -> Workspace {
    let env = TestEnv::new();
    let folder = env.mkdir("proj");
    let config_path = env.write("proj/.agentls/config.toml", config);
    let file_uri = file_uri(&env.write("proj/src/lib.rs", "\n"));
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&folder).build());
    let config_uri = support::file_uri(&config_path);
    Workspace {
        server,
        config_path,
        config_uri,
        file_uri,
    }
}

/// Waits for a non-empty publishDiagnostics for `uri`; returns its diagnostics.
fn wait_diagnostics(server: &TestServer, uri: &str) -> Vec<Value> {
    let params = server.wait_notification(
        "textDocument/publishDiagnostics",
        &format!("diagnostics for {uri}"),
        |p| p["uri"] == json!(uri) && p["diagnostics"].as_array().is_some_and(|d| !d.is_empty()),
    );
    params["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn assert_error_on_line(server: &TestServer, uri: &str, line: u64) {
    let diagnostics = wait_diagnostics(server, uri);
    assert!(
        diagnostics
            .iter()
            .any(|d| d["range"]["start"]["line"] == json!(line)),
        "expected a diagnostic on line {line} of {uri}, got {diagnostics:#?}"
    );
}

/// Waits for a `window/showMessage` of type Error (1) or Warning (2) naming the folder's config file.
fn assert_message_names_config_file(server: &TestServer) -> Value {
    server.wait_notification(
        "window/showMessage",
        "an error or warning naming .agentls/config.toml",
        |p| {
            matches!(p["type"].as_i64(), Some(1 | 2))
                && p["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(".agentls/config.toml"))
        },
    )
}

#[test]
fn invalid_toml_at_startup_gets_a_diagnostic_on_the_error_line_and_a_message() {
    let ws = workspace_with_config("# agentls settings\n[exec]\ncols = 100\nrows = = 3\n");
    assert_error_on_line(&ws.server, &ws.config_uri, 3);
    assert_message_names_config_file(&ws.server);
    // No good configuration was ever read: the session runs on defaults and answers.
    assert_eq!(
        ws.server.config_value(&ws.file_uri, "exec.cols"),
        json!(120)
    );
    assert_eq!(ws.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn wrong_value_type_gets_a_diagnostic_on_the_line_of_the_key() {
    let ws = workspace_with_config("[exec]\n\ncols = \"wide\"\n");
    assert_error_on_line(&ws.server, &ws.config_uri, 2);
    assert_message_names_config_file(&ws.server);
    assert_eq!(
        ws.server.config_value(&ws.file_uri, "exec.cols"),
        json!(120)
    );
    assert_eq!(ws.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn unknown_key_gets_a_diagnostic_on_the_line_of_the_key() {
    let ws = workspace_with_config("[exec]\ncols = 100\ncolour = true\n");
    assert_error_on_line(&ws.server, &ws.config_uri, 2);
    assert_message_names_config_file(&ws.server);
    ws.server.ping();
    assert_eq!(ws.server.shutdown_and_exit().code(), Some(0));
}

/// What an editor does when the user edits the config file in a buffer and saves:
/// didChange with the new text, the file on disk changes, didSave, and the
/// watched-file event. A server may react to any of them.
fn edit_and_save(ws: &Workspace, version: i64, text: &str) {
    ws.server
        .did_change(&ws.config_uri, version, json!([{ "text": text }]));
    write_file(&ws.config_path, text);
    ws.server.notify(
        "textDocument/didSave",
        json!({ "textDocument": { "uri": ws.config_uri } }),
    );
    ws.server.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": ws.config_uri, "type": 2 }] }),
    );
}

#[test]
fn config_broken_at_run_time_keeps_the_last_good_values_until_fixed() {
    let good = "[exec]\ncols = 100\nrows = 30\n";
    let ws = workspace_with_config(good);
    assert_eq!(
        ws.server.config_value(&ws.file_uri, "exec.cols"),
        json!(100)
    );
    ws.server.did_open(&ws.config_uri, "toml", 1, good);

    edit_and_save(&ws, 2, "[exec]\ncols = 100\nrows = [\n");
    assert_error_on_line(&ws.server, &ws.config_uri, 2);
    assert_message_names_config_file(&ws.server);
    assert_eq!(
        ws.server.config_value(&ws.file_uri, "exec.cols"),
        json!(100),
        "last good kept"
    );
    assert_eq!(
        ws.server.config_value(&ws.file_uri, "exec.rows"),
        json!(30),
        "last good kept"
    );

    edit_and_save(&ws, 3, "[exec]\ncols = 150\nrows = 30\n");
    ws.server.wait_for(
        "the config diagnostics to be cleared",
        support::DEFAULT_TIMEOUT,
        |r| {
            let publishes = r.notifications("textDocument/publishDiagnostics");
            let for_config: Vec<&Value> = publishes
                .iter()
                .filter(|p| p["uri"] == json!(ws.config_uri))
                .collect();
            let last = for_config.last()?;
            (last["diagnostics"].as_array().is_some_and(Vec::is_empty)).then_some(())
        },
    );
    assert_eq!(
        ws.server.config_value(&ws.file_uri, "exec.cols"),
        json!(150),
        "fixed file applies"
    );
    assert_eq!(ws.server.shutdown_and_exit().code(), Some(0));
}

fn config_of(server: &TestServer, uri: &str) -> Value {
    server.agent_config(Some(uri))["config"].clone()
}

fn key(config: &Value, dotted: &str) -> Value {
    support::config_key(config, dotted)
        .cloned()
        .unwrap_or_else(|| panic!("no `{dotted}` in {config}"))
}

#[test]
fn layers_apply_in_order_defaults_user_folder_init_options_did_change_configuration() {
    let env = TestEnv::new();
    let user_path = env.user_config_path();
    write_file(
        &user_path,
        "[exec]\ncols = 101\nrows = 31\nterm = \"user-term\"\n\n[stream]\noutput_per_second = 7\n",
    );
    let folder = env.mkdir("proj");
    let folder_config = env.write(
        "proj/.agentls/config.toml",
        "[exec]\ncols = 102\nrows = 32\nterm = \"folder-term\"\n",
    );
    let inside = file_uri(&env.write("proj/main.rs", ""));
    let outside = file_uri(&env.write("elsewhere/notes.txt", ""));
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(
        InitParams::new()
            .folder(&folder)
            .initialization_options(json!({ "agentls": { "exec": { "cols": 103, "rows": 33 } } }))
            .build(),
    );

    let c = config_of(&server, &inside);
    assert_eq!(
        key(&c, "exec.cols"),
        json!(103),
        "initializationOptions over folder: {c}"
    );
    assert_eq!(
        key(&c, "exec.rows"),
        json!(33),
        "initializationOptions over folder: {c}"
    );
    assert_eq!(
        key(&c, "exec.term"),
        json!("folder-term"),
        "folder over user: {c}"
    );
    assert_eq!(
        key(&c, "stream.output_per_second"),
        json!(7),
        "user over defaults: {c}"
    );

    let o = config_of(&server, &outside);
    assert_eq!(
        key(&o, "exec.term"),
        json!("user-term"),
        "outside sees no folder file: {o}"
    );
    assert_eq!(
        key(&o, "exec.cols"),
        json!(103),
        "init options apply outside too: {o}"
    );

    let files = server.agent_config(Some(&inside))["files"].clone();
    for path in [&user_path, &folder_config] {
        assert!(
            support::files_contain(&files, path),
            "{path:?} should be listed in files: {files}"
        );
    }

    // A client that is asked (workspace/configuration) answers what it pushes.
    let pushed = json!({ "exec": { "cols": 104 } });
    server.set_configuration("agentls", pushed.clone());
    server.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "agentls": pushed } }),
    );
    let c = config_of(&server, &inside);
    assert_eq!(
        key(&c, "exec.cols"),
        json!(104),
        "didChangeConfiguration on top: {c}"
    );
    assert_eq!(key(&c, "exec.rows"), json!(33), "layers below stay: {c}");
    assert_eq!(
        key(&c, "exec.term"),
        json!("folder-term"),
        "layers below stay: {c}"
    );
    assert_eq!(
        key(&c, "stream.output_per_second"),
        json!(7),
        "layers below stay: {c}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn initialization_options_accept_keys_at_top_level() {
    let server = TestServer::spawn(ServerOptions::new());
    server.initialize(
        InitParams::new()
            .initialization_options(
                json!({ "exec": { "cols": 111 }, "store": { "max_output_bytes": 4096 } }),
            )
            .build(),
    );
    let c = server.agent_config(None)["config"].clone();
    assert_eq!(key(&c, "exec.cols"), json!(111), "{c}");
    assert_eq!(key(&c, "store.max_output_bytes"), json!(4096), "{c}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn defaults_are_used_without_any_config() {
    let server = TestServer::spawn(ServerOptions::new());
    server.initialize_default();
    let result = server.agent_config(None);
    let c = &result["config"];
    assert_eq!(key(c, "exec.cols"), json!(120), "{c}");
    for k in [
        "exec.rows",
        "exec.pty",
        "exec.term",
        "store.max_output_bytes",
        "stream.output_per_second",
        "stream.progress_per_second",
    ] {
        assert!(
            support::config_key(c, k).is_some(),
            "default config lacks `{k}`: {c}"
        );
    }
    assert_eq!(
        result["files"],
        json!([]),
        "no config file contributed: {result}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn did_change_configuration_without_agentls_settings_changes_nothing() {
    let server = TestServer::spawn(ServerOptions::new());
    server.initialize(
        InitParams::new()
            .initialization_options(json!({ "agentls": { "exec": { "cols": 90 } } }))
            .build(),
    );
    server.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "otherServer": { "x": 1 } } }),
    );
    server.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": null }),
    );
    let c = server.agent_config(None)["config"].clone();
    assert_eq!(key(&c, "exec.cols"), json!(90), "{c}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// A folder whose `.agentls/config.toml` is what `make` puts there,
/// initialized: the `initialize` answer itself is the first assertion (a
/// config read whole from /dev/zero or blocked on a FIFO never answers).
fn workspace_with_special_config(make: impl FnOnce(&std::path::Path)) -> Workspace {
    let env = TestEnv::new();
    let folder = env.mkdir("proj");
    let config_path = folder.join(".agentls/config.toml");
    std::fs::create_dir_all(config_path.parent().unwrap()).unwrap();
    make(&config_path);
    let file_uri = file_uri(&env.write("proj/src/lib.rs", "\n"));
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&folder).build());
    let config_uri = support::file_uri(&config_path);
    Workspace {
        server,
        config_path,
        config_uri,
        file_uri,
    }
}

fn assert_refused_with(ws: &Workspace, reason: &str) {
    let message = assert_message_names_config_file(&ws.server);
    let text = message["message"].as_str().unwrap_or("");
    assert!(
        text.contains(&ws.config_path.display().to_string()) && text.contains(reason),
        "expected {reason:?} about {}: {message}",
        ws.config_path.display()
    );
    // The session runs on defaults and keeps answering.
    assert_eq!(
        config_of(&ws.server, &ws.file_uri)["exec"]["cols"],
        json!(120)
    );
    assert_eq!(ws.server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_config_file_that_is_a_fifo_is_refused_and_initialize_answers() {
    let ws = workspace_with_special_config(|path| {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    });
    assert_refused_with(&ws, "not a regular file (a FIFO)");
}

#[test]
fn a_config_file_symlinked_to_dev_zero_is_refused_and_initialize_answers() {
    let ws = workspace_with_special_config(|path| {
        std::os::unix::fs::symlink("/dev/zero", path).unwrap();
    });
    assert_refused_with(&ws, "not a regular file (a character device)");
}

#[test]
fn a_config_file_over_one_mib_is_refused_and_initialize_answers() {
    let ws = workspace_with_special_config(|path| {
        let file = std::fs::File::create(path).unwrap();
        file.set_len(10 * 1024 * 1024 * 1024).unwrap();
    });
    assert_refused_with(&ws, "larger than the 1 MiB limit");
}
