//! Where run transcripts live: `<state dir>/transcripts/<run id>.log`. The
//! one place that knows the layout; the engine writes there, the CLI and the
//! editor surface read and show the same paths.

use std::path::{Path, PathBuf};

use agentls_store::RunId;

/// The transcripts directory of one workspace's state directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcripts {
    dir: PathBuf,
}

impl Transcripts {
    /// The transcripts of the workspace whose state is in `state_dir`.
    pub fn in_state_dir(state_dir: &Path) -> Self {
        Transcripts {
            dir: state_dir.join("transcripts"),
        }
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The transcript file of a run (plain text, every step's output).
    pub fn path(&self, run: &RunId) -> PathBuf {
        self.dir.join(format!("{run}.log"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_transcript_is_its_id_dot_log_in_the_transcripts_dir() {
        let transcripts = Transcripts::in_state_dir(Path::new("/state/ws"));
        let run = RunId::parse("0123456789ab").unwrap();
        assert_eq!(transcripts.dir(), Path::new("/state/ws/transcripts"));
        assert_eq!(
            transcripts.path(&run),
            Path::new("/state/ws/transcripts/0123456789ab.log")
        );
    }
}
