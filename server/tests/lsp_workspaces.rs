//! Sessions per workspace folder: each folder's files see that folder's
//! `.agentls/config.toml`, the deepest folder wins, folders come and go at run
//! time, and files outside every folder belong to the outside session.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::{file_uri, InitParams, ServerOptions, TestEnv, TestServer};

/// Creates folder `rel` with `.agentls/config.toml` setting `exec.cols`, plus a
/// source file in it; returns (folder path, uri of the file).
fn folder_with_cols(env: &TestEnv, rel: &str, cols: u32) -> (std::path::PathBuf, String) {
    let folder = env.mkdir(rel);
    env.write(
        &format!("{rel}/.agentls/config.toml"),
        &format!("[exec]\ncols = {cols}\n"),
    );
    let file = env.write(&format!("{rel}/src/main.rs"), "fn main() {}\n");
    (folder, file_uri(&file))
}

fn assert_workspace(server: &TestServer, uri: &str, expected: Option<&Path>) {
    let result = server.agent_config(Some(uri));
    match expected {
        Some(folder) => {
            let got = result["workspace"]
                .as_str()
                .unwrap_or_else(|| panic!("workspace should be {folder:?} for {uri}: {result}"));
            assert_eq!(Path::new(got), folder, "workspace of {uri}");
        }
        None => assert_eq!(
            result["workspace"],
            Value::Null,
            "workspace of {uri}: {result}"
        ),
    }
}

#[test]
fn each_folder_sees_its_own_config() {
    let env = TestEnv::new();
    let (a, a_file) = folder_with_cols(&env, "a", 100);
    let (b, b_file) = folder_with_cols(&env, "b", 200);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&a).folder(&b).build());

    assert_workspace(&server, &a_file, Some(&a));
    assert_eq!(server.config_value(&a_file, "exec.cols"), json!(100));
    assert_workspace(&server, &b_file, Some(&b));
    assert_eq!(server.config_value(&b_file, "exec.cols"), json!(200));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn folder_config_file_is_listed_as_a_contributing_file() {
    let env = TestEnv::new();
    let (a, a_file) = folder_with_cols(&env, "a", 100);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&a).build());
    let result = server.agent_config(Some(&a_file));
    let config_path = a.join(".agentls").join("config.toml");
    assert!(
        support::files_contain(&result["files"], &config_path),
        "{config_path:?} not in files: {result}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn nested_folder_wins_for_its_own_files() {
    let env = TestEnv::new();
    let (outer, outer_file) = folder_with_cols(&env, "outer", 100);
    let (inner, inner_file) = folder_with_cols(&env, "outer/inner", 300);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    // Outer listed last, so "first folder that contains the file" would be wrong
    // for one of the two orders; deepest must win regardless.
    server.initialize(InitParams::new().folder(&inner).folder(&outer).build());

    assert_workspace(&server, &inner_file, Some(&inner));
    assert_eq!(server.config_value(&inner_file, "exec.cols"), json!(300));
    assert_workspace(&server, &outer_file, Some(&outer));
    assert_eq!(server.config_value(&outer_file, "exec.cols"), json!(100));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn sibling_with_a_shared_name_prefix_is_not_inside_the_folder() {
    // `/x/app` must not own `/x/app-other/file`: containment is by path
    // component, not by string prefix.
    let env = TestEnv::new();
    let (app, _) = folder_with_cols(&env, "app", 100);
    let other_file = file_uri(&env.write("app-other/main.rs", ""));
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&app).build());
    assert_workspace(&server, &other_file, None);
    assert_eq!(server.config_value(&other_file, "exec.cols"), json!(120));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn file_outside_every_folder_belongs_to_the_outside_session() {
    let env = TestEnv::new();
    let (a, _) = folder_with_cols(&env, "a", 100);
    let loose = file_uri(&env.write("loose/notes.txt", "hi\n"));
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&a).build());
    assert_workspace(&server, &loose, None);
    assert_eq!(
        server.config_value(&loose, "exec.cols"),
        json!(120),
        "default cols"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

fn change_folders(server: &TestServer, added: &[&Path], removed: &[&Path]) {
    let folder =
        |p: &&Path| json!({ "uri": file_uri(p), "name": p.file_name().and_then(|n| n.to_str()) });
    server.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({ "event": {
            "added": added.iter().map(folder).collect::<Vec<_>>(),
            "removed": removed.iter().map(folder).collect::<Vec<_>>()
        } }),
    );
}

#[test]
fn folder_added_at_run_time_gets_a_session_with_its_config() {
    let env = TestEnv::new();
    let (a, a_file) = folder_with_cols(&env, "a", 100);
    let (c, c_file) = folder_with_cols(&env, "c", 250);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&a).build());
    assert_workspace(&server, &c_file, None);

    // An editor sends the request right after the notification; the server
    // must have applied the notification by then.
    change_folders(&server, &[&c], &[]);
    assert_workspace(&server, &c_file, Some(&c));
    assert_eq!(server.config_value(&c_file, "exec.cols"), json!(250));
    assert_eq!(
        server.config_value(&a_file, "exec.cols"),
        json!(100),
        "a is untouched"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn removed_folder_files_fall_back_to_the_outside_session() {
    let env = TestEnv::new();
    let (a, a_file) = folder_with_cols(&env, "a", 100);
    let (b, b_file) = folder_with_cols(&env, "b", 200);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&a).folder(&b).build());
    assert_workspace(&server, &b_file, Some(&b));

    change_folders(&server, &[], &[&b]);
    assert_workspace(&server, &b_file, None);
    assert_eq!(
        server.config_value(&b_file, "exec.cols"),
        json!(120),
        "outside session default"
    );
    assert_workspace(&server, &a_file, Some(&a));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn folder_removed_and_added_back_gets_a_working_session_again() {
    let env = TestEnv::new();
    let (a, a_file) = folder_with_cols(&env, "a", 100);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&a).build());
    change_folders(&server, &[], &[&a]);
    assert_workspace(&server, &a_file, None);
    change_folders(&server, &[&a], &[]);
    assert_workspace(&server, &a_file, Some(&a));
    assert_eq!(server.config_value(&a_file, "exec.cols"), json!(100));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn agent_config_without_uri_answers() {
    let env = TestEnv::new();
    let (a, _) = folder_with_cols(&env, "a", 100);
    let server = TestServer::spawn_in(env, ServerOptions::new());
    server.initialize(InitParams::new().folder(&a).build());
    let result = server.agent_config(None);
    assert!(
        result["config"].is_object(),
        "config is an object: {result}"
    );
    assert!(
        result.get("workspace").is_some(),
        "workspace key present: {result}"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
