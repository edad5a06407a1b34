//! agentls-worktree: the git side of a run isolated in its own worktree
//! (docs/workflows.md, "Isolation").
//!
//! Owns every `git` command agentls runs: finding the repository of a
//! workspace, snapshotting the user's working tree (HEAD plus tracked
//! modifications and untracked, non-ignored files) as a commit without
//! touching their index, adding a worktree on a branch at that commit,
//! diffing the worktree against it, and removing worktree, branch and
//! directory again.
//!
//! Architecture invariant: knows nothing of runs, stores, workflows or LSP;
//! paths and names in, commits and patches out. Its own git commands never
//! read a worktree's `.git` file (a sandboxed step may write it): they name
//! the repository's git directory and the work tree explicitly, and use a
//! temporary index, so what a run wrote cannot point git at another
//! repository or configuration.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// What went wrong, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error(
        "{path} is not inside a git repository; `isolation = \"worktree\"` needs one \
         (run `git init` and commit, or use `isolation = \"none\"`)"
    )]
    NotARepo { path: PathBuf },
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    #[error("git {args} failed: {stderr}")]
    Git { args: String, stderr: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// The git repository a workspace belongs to.
#[derive(Clone, Debug)]
pub struct Repo {
    /// The top of its working tree.
    top: PathBuf,
    /// Its git directory (of the user's worktree when they work in a
    /// linked one: their HEAD and index).
    git_dir: PathBuf,
    /// Where the workspace lies inside it ("" at the top, else `sub/dir/`).
    prefix: String,
}

/// A worktree [`Repo::create`] made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The commit the worktree starts from: HEAD, or a commit on top of it
    /// holding the user's uncommitted changes.
    pub base: String,
    /// The user's HEAD commit then (`None` in a repository without commits).
    pub head: Option<String>,
    /// The workspace's directory inside the worktree (the worktree itself
    /// unless the workspace is a subdirectory of its repository).
    pub root: PathBuf,
}

/// Identity of the snapshot commits, so that a user without `user.name`
/// configured can isolate runs too.
const IDENTITY: &[(&str, &str)] = &[
    ("GIT_AUTHOR_NAME", "agentls"),
    ("GIT_AUTHOR_EMAIL", "agentls@localhost"),
    ("GIT_COMMITTER_NAME", "agentls"),
    ("GIT_COMMITTER_EMAIL", "agentls@localhost"),
];

impl Repo {
    /// The repository containing `dir`, or [`WorktreeError::NotARepo`].
    pub fn discover(dir: &Path) -> Result<Repo, WorktreeError> {
        let out = git_in(dir)
            .args([
                "rev-parse",
                "--show-toplevel",
                "--absolute-git-dir",
                "--show-prefix",
            ])
            .output()
            .map_err(WorktreeError::Spawn)?;
        if !out.status.success() {
            return Err(WorktreeError::NotARepo {
                path: dir.to_path_buf(),
            });
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let (Some(top), Some(git_dir), prefix) = (lines.next(), lines.next(), lines.next()) else {
            return Err(WorktreeError::NotARepo {
                path: dir.to_path_buf(),
            });
        };
        Ok(Repo {
            top: PathBuf::from(top),
            git_dir: PathBuf::from(git_dir),
            prefix: prefix.unwrap_or_default().to_string(),
        })
    }

    /// The top of the repository's working tree.
    pub fn top(&self) -> &Path {
        &self.top
    }

    /// The workspace's directory inside a worktree of this repository
    /// whose top is `worktree`.
    pub fn root_in(&self, worktree: &Path) -> PathBuf {
        match self.prefix.as_str() {
            "" => worktree.to_path_buf(),
            prefix => worktree.join(prefix),
        }
    }

    /// Adds a worktree at `dest` on branch `branch` (reset if it exists),
    /// checked out at a snapshot of the user's working tree: HEAD plus
    /// tracked modifications and untracked, non-ignored files. The user's
    /// index, branches and files are left alone. `message`: the snapshot
    /// commit's message.
    pub fn create(
        &self,
        dest: &Path,
        branch: &str,
        message: &str,
    ) -> Result<Created, WorktreeError> {
        let head = self.rev_parse("HEAD^{commit}");
        let tree = self.snapshot_tree(head.as_deref())?;
        let base = match &head {
            Some(head) if self.rev_parse(&format!("{head}^{{tree}}")).as_deref() == Some(&tree) => {
                head.clone()
            }
            _ => {
                let mut cmd = self.git();
                cmd.args(["commit-tree", &tree, "-m", message]);
                if let Some(head) = &head {
                    cmd.args(["-p", head]);
                }
                cmd.envs(IDENTITY.iter().copied());
                stdout_line(cmd)?
            }
        };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|source| WorktreeError::Io {
                what: format!("cannot create {}", parent.display()),
                source,
            })?;
        }
        let mut add = self.git();
        // The user's post-checkout hook is for their checkouts, not ours.
        add.args([
            "-c",
            "core.hooksPath=/dev/null",
            "worktree",
            "add",
            "--quiet",
            "-B",
            branch,
        ])
        .arg(dest)
        .arg(&base);
        run(add)?;
        Ok(Created {
            base,
            head,
            root: self.root_in(dest),
        })
    }

    /// The patch that turns `base` into the worktree at `worktree` as it is
    /// now (new, changed and deleted files; ignored files left out), as
    /// `git diff` writes it, with paths relative to the workspace.
    pub fn diff(&self, worktree: &Path, base: &str) -> Result<String, WorktreeError> {
        let index = self.temp_index()?;
        let work = |cmd: &mut Command| {
            cmd.arg("--work-tree").arg(worktree);
            cmd.env("GIT_INDEX_FILE", index.path());
        };
        let mut read = self.git();
        work(&mut read);
        read.args(["read-tree", base]);
        run(read)?;
        let mut add = self.git();
        work(&mut add);
        add.args(["add", "-A"]);
        run(add)?;
        let mut write = self.git();
        work(&mut write);
        write.arg("write-tree");
        let tree = stdout_line(write)?;
        let mut diff = self.git();
        diff.args([
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-renames",
            "--src-prefix=a/",
            "--dst-prefix=b/",
        ]);
        if !self.prefix.is_empty() {
            diff.arg(format!("--relative={}", self.prefix));
        }
        diff.args([base, &tree]);
        let out = output(diff)?;
        String::from_utf8(out.stdout).map_err(|_| WorktreeError::Git {
            args: "diff".into(),
            stderr: "the patch is not UTF-8 text".into(),
        })
    }

    /// Removes the worktree at `dest` (also when it has changes, is locked,
    /// or was half-made), its directory and `branch`. Whatever is already
    /// gone is fine.
    pub fn remove(&self, dest: &Path, branch: &str) -> Result<(), WorktreeError> {
        let mut remove = self.git();
        remove
            .args(["worktree", "remove", "--force", "--force"])
            .arg(dest);
        if let Err(err) = run(remove) {
            tracing::debug!(%err, "git worktree remove; removing the directory instead");
        }
        match std::fs::remove_dir_all(dest) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(WorktreeError::Io {
                    what: format!("cannot remove {}", dest.display()),
                    source,
                })
            }
        }
        self.prune()?;
        if self.rev_parse(&format!("refs/heads/{branch}")).is_some() {
            let mut delete = self.git();
            delete.args(["branch", "-D", "--quiet", branch]);
            run(delete)?;
        }
        Ok(())
    }

    /// `git worktree prune`: forgets worktrees whose directory is gone.
    pub fn prune(&self) -> Result<(), WorktreeError> {
        let mut prune = self.git();
        prune.args(["worktree", "prune"]);
        run(prune)
    }

    /// The branches whose name starts with `prefix` (e.g. `agentls/`).
    pub fn branches(&self, prefix: &str) -> Result<Vec<String>, WorktreeError> {
        let mut list = self.git();
        list.args(["for-each-ref", "--format=%(refname:short)"])
            .arg(format!("refs/heads/{}", prefix.trim_end_matches('/')));
        let out = output(list)?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// The tree of HEAD plus the working tree's changes, written through a
    /// copy of the user's index (so unchanged files are not hashed again).
    fn snapshot_tree(&self, head: Option<&str>) -> Result<String, WorktreeError> {
        let index = self.temp_index()?;
        let real = self.top.join(self.git_path("index")?);
        match std::fs::copy(&real, index.path()) {
            Ok(_) => {}
            // No index yet: start from HEAD's tree (or nothing).
            Err(_) => {
                if let Some(head) = head {
                    let mut read = self.git_in_top();
                    read.env("GIT_INDEX_FILE", index.path())
                        .args(["read-tree", head]);
                    run(read)?;
                } else {
                    let _ = std::fs::remove_file(index.path());
                }
            }
        }
        let mut add = self.git_in_top();
        add.env("GIT_INDEX_FILE", index.path()).args(["add", "-A"]);
        run(add)?;
        let mut write = self.git_in_top();
        write.env("GIT_INDEX_FILE", index.path()).arg("write-tree");
        stdout_line(write)
    }

    fn temp_index(&self) -> Result<tempfile::NamedTempFile, WorktreeError> {
        tempfile::Builder::new()
            .prefix("agentls-index-")
            .tempfile()
            .map_err(|source| WorktreeError::Io {
                what: "cannot create a temporary index".into(),
                source,
            })
    }

    fn git_path(&self, name: &str) -> Result<String, WorktreeError> {
        let mut cmd = self.git_in_top();
        cmd.args(["rev-parse", "--git-path", name]);
        stdout_line(cmd)
    }

    fn rev_parse(&self, rev: &str) -> Option<String> {
        let mut cmd = self.git();
        cmd.args(["rev-parse", "--verify", "--quiet", rev]);
        stdout_line(cmd).ok()
    }

    /// git on the repository's own directory, with no work tree unless the
    /// caller names one.
    fn git(&self) -> Command {
        let mut cmd = git_in(&self.top);
        cmd.arg("--git-dir").arg(&self.git_dir);
        cmd
    }

    /// git on the user's working tree (the repository's top).
    fn git_in_top(&self) -> Command {
        let mut cmd = self.git();
        cmd.arg("--work-tree").arg(&self.top);
        cmd
    }
}

/// `git -C dir`, with nothing of the caller's git environment.
fn git_in(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir);
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "GIT_PREFIX",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null());
    cmd
}

fn output(mut cmd: Command) -> Result<Output, WorktreeError> {
    let out = cmd.output().map_err(WorktreeError::Spawn)?;
    if out.status.success() {
        return Ok(out);
    }
    let args: Vec<_> = cmd
        .get_args()
        .skip_while(|a| *a != OsStr::new("--git-dir"))
        .skip(2)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    Err(WorktreeError::Git {
        args: args.join(" "),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

fn run(cmd: Command) -> Result<(), WorktreeError> {
    output(cmd).map(|_| ())
}

fn stdout_line(cmd: Command) -> Result<String, WorktreeError> {
    let out = output(cmd)?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
