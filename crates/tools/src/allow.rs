//! [`Allow`]: the `allow` rules of an agent step, the pure part of the
//! permission policy. What they do not allow waits for the user's approval.

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// `allow = { run = [...], edit = [...] }` of an agent step, compiled.
///
/// `run` globs match the whole command line, with `*` matching anything
/// (`/` and spaces included): `cargo test*` allows `cargo test -p foo`.
/// Leading and trailing blanks are ignored and runs of blanks count as one.
///
/// A command line containing a shell control operator never matches any
/// rule: `;`, `&` (also `&&`), `|` (also `||`), `<`, `>`, a backquote, `$(`,
/// a newline or a carriage return. Otherwise `cargo test*` would allow
/// `cargo test; rm -rf ~` or `cargo test $(curl … | sh)`. Such a command
/// still runs once the user approves it. A rule trusts whatever its glob
/// leaves open: `cargo test*` allows any `cargo test` flag, and `cargo
/// testx` too (write `cargo test` and `cargo test *` for exactly `cargo
/// test` with or without arguments).
///
/// `edit` globs match the normalised path relative to the working tree
/// (as [`crate::Planned::path`] has it), `*` stopping at `/` and `**`
/// crossing directories: `src/**` allows `src/a/b.rs`, `src/*` only files
/// directly in `src`.
#[derive(Debug, Clone)]
pub struct Allow {
    run: GlobSet,
    edit: GlobSet,
}

/// What makes a command line more than one command, or redirects it.
const SHELL_OPERATORS: &[&str] = &[";", "&", "|", "<", ">", "`", "$(", "\n", "\r"];

impl Allow {
    /// Compiles the rules; an invalid glob is an error naming it.
    pub fn new(run: &[String], edit: &[String]) -> Result<Allow, String> {
        Ok(Allow {
            run: compile("run", run, false)?,
            edit: compile("edit", edit, true)?,
        })
    }

    /// Whether `command` runs without asking.
    pub fn allows_run(&self, command: &str) -> bool {
        if SHELL_OPERATORS.iter().any(|op| command.contains(op)) {
            return false;
        }
        let normalised = command.split_whitespace().collect::<Vec<_>>().join(" ");
        !normalised.is_empty() && self.run.is_match(Path::new(&normalised))
    }

    /// Whether the file at `path` (normalised, relative) may be changed
    /// without asking.
    pub fn allows_edit(&self, path: &str) -> bool {
        self.edit.is_match(Path::new(path))
    }
}

fn compile(key: &str, globs: &[String], literal_separator: bool) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for glob in globs {
        let pattern = if literal_separator {
            glob.trim().trim_start_matches("./").to_owned()
        } else {
            glob.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        if pattern.is_empty() {
            return Err(format!(
                "allow.{key}: an empty glob allows nothing; remove it"
            ));
        }
        let compiled = GlobBuilder::new(&pattern)
            .literal_separator(literal_separator)
            .backslash_escape(true)
            .build()
            .map_err(|err| format!("allow.{key}: invalid glob {glob:?}: {}", err.kind()))?;
        set.add(compiled);
    }
    set.build().map_err(|err| format!("allow.{key}: {err}"))
}
