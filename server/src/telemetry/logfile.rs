//! A log file that never grows past its cap: when a write would pass it, the
//! file is renamed to `<name>.1` (replacing the previous one) and restarted.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// Shared handle to a size-capped log file.
#[derive(Clone)]
pub struct CappedFile {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    path: PathBuf,
    file: File,
    len: u64,
    cap: u64,
}

impl CappedFile {
    pub fn open(path: &Path, cap: u64) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                path: path.to_path_buf(),
                file,
                len,
                cap,
            })),
        })
    }
}

impl Inner {
    fn roll(&mut self) -> io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, old)?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.len = 0;
        Ok(())
    }
}

impl Write for CappedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.len > 0 && inner.len + buf.len() as u64 > inner.cap {
            inner.roll()?;
        }
        let written = inner.file.write(buf)?;
        inner.len += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.file.flush()
    }
}

impl<'a> MakeWriter<'a> for CappedFile {
    type Writer = CappedFile;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_rolls_over_at_cap_and_never_exceeds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let mut file = CappedFile::open(&path, 100).unwrap();
        for i in 0..50 {
            writeln!(file, "line {i:04}").unwrap();
        }
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len <= 100, "current log is {len} bytes");
        let old = std::fs::read_to_string(dir.path().join("a.log.1")).unwrap();
        assert!(old.len() <= 100);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .ends_with("line 0049\n"));
    }
}
