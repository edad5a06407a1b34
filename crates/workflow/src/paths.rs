//! The rule for `edit.file` paths: relative, inside the workspace, not in `.git/`.
//!
//! The parser applies it to literal paths; the engine applies it again to
//! rendered ones, since a template can produce anything. This module never
//! touches the file system: it judges the path's text only.

use std::path::{Component, Path};

/// Why an `edit.file` path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditPathError {
    /// Empty path.
    #[error("edit path is empty")]
    Empty,
    /// `/etc/passwd`, `C:\x`, `\\server\share`.
    #[error("edit path `{0}` is absolute; give a path relative to the workspace root")]
    Absolute(String),
    /// Contains a `..` component.
    #[error("edit path `{0}` contains `..`; edits stay inside the workspace")]
    ParentDir(String),
    /// Ends with `/` (or `/.`, `/..`): names a directory, not a file.
    #[error("edit path `{0}` ends with `/`; name a file, not a directory")]
    Directory(String),
    /// Inside `.git/`.
    #[error("edit path `{0}` is inside `.git/`; edits never touch the repository's metadata")]
    GitDir(String),
}

/// Check an `edit.file` path. Both `/` and `\` count as separators so that a
/// workflow written on one platform cannot escape on another.
pub fn check_edit_path(path: &str) -> Result<(), EditPathError> {
    if path.trim().is_empty() {
        return Err(EditPathError::Empty);
    }
    let owned = || path.to_owned();
    let starts_like_windows_drive =
        path.len() >= 2 && path.as_bytes()[0].is_ascii_alphabetic() && path.as_bytes()[1] == b':';
    if path.starts_with('/') || path.starts_with('\\') || starts_like_windows_drive {
        return Err(EditPathError::Absolute(owned()));
    }
    if Path::new(path).is_absolute() {
        return Err(EditPathError::Absolute(owned()));
    }
    let parts = || path.split(['/', '\\']);
    if parts().any(|p| p == "..") {
        return Err(EditPathError::ParentDir(owned()));
    }
    // `sub/` would otherwise be written as the file `sub`.
    if matches!(parts().next_back(), Some("" | ".")) {
        return Err(EditPathError::Directory(owned()));
    }
    // Any `.git` component: a submodule's `.git` is as sensitive as the root's.
    if parts().any(|p| p.eq_ignore_ascii_case(".git")) {
        return Err(EditPathError::GitDir(owned()));
    }
    // Belt and braces for platform-specific prefixes `split` does not see.
    if Path::new(path)
        .components()
        .any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
    {
        return Err(EditPathError::Absolute(owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_inside_the_workspace_pass() {
        assert_eq!(check_edit_path("docs/notes.md"), Ok(()));
        assert_eq!(check_edit_path("./src/lib.rs"), Ok(()));
        assert_eq!(check_edit_path("a/.gitignore"), Ok(()));
    }

    #[test]
    fn escaping_paths_are_refused() {
        assert!(matches!(check_edit_path(""), Err(EditPathError::Empty)));
        assert!(matches!(
            check_edit_path("/etc/passwd"),
            Err(EditPathError::Absolute(_))
        ));
        assert!(matches!(
            check_edit_path("C:\\x"),
            Err(EditPathError::Absolute(_))
        ));
        assert!(matches!(
            check_edit_path("a/../../b"),
            Err(EditPathError::ParentDir(_))
        ));
        assert!(matches!(
            check_edit_path("a\\..\\b"),
            Err(EditPathError::ParentDir(_))
        ));
        assert!(matches!(
            check_edit_path(".git/config"),
            Err(EditPathError::GitDir(_))
        ));
        assert!(matches!(
            check_edit_path("./.GIT/hooks/x"),
            Err(EditPathError::GitDir(_))
        ));
        assert!(matches!(
            check_edit_path("sub/.git/config"),
            Err(EditPathError::GitDir(_))
        ));
    }

    #[test]
    fn paths_naming_a_directory_are_refused() {
        for path in ["sub/", "sub\\", "a/b/", "sub/.", "./"] {
            assert_eq!(
                check_edit_path(path),
                Err(EditPathError::Directory(path.to_owned())),
                "{path}"
            );
        }
        assert_eq!(
            check_edit_path("sub/").unwrap_err().to_string(),
            "edit path `sub/` ends with `/`; name a file, not a directory"
        );
    }
}
