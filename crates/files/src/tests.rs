use std::ffi::CString;
use std::path::Path;

use super::*;

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only reads it.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

const SMALL: Limit = Limit {
    what: "config",
    cap: 16,
};

#[test]
fn a_regular_file_within_the_cap_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.toml");
    std::fs::write(&path, "x = 1\n").unwrap();
    assert_eq!(read_to_string(&path, SMALL).unwrap(), "x = 1\n");
    std::fs::write(&path, "0123456789abcdef").unwrap();
    assert_eq!(
        read(&path, SMALL).unwrap().len(),
        16,
        "exactly the cap is fine"
    );
}

#[test]
fn a_fifo_is_refused_without_blocking_and_the_error_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    mkfifo(&path);
    let err = read_to_string(&path, Limit::CONFIG).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("config {}: not a regular file (a FIFO)", path.display())
    );
    assert_eq!(err.reason(), "not a regular file (a FIFO)");
}

#[test]
fn a_symlink_to_dev_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cassette.json");
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    let err = read(&path, Limit::CASSETTE).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cassette {}: not a regular file (a character device)",
            path.display()
        )
    );
}

#[test]
fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(dir.path(), Limit::WORKFLOW).unwrap_err();
    assert_eq!(err.reason(), "not a regular file (a directory)");
}

#[test]
fn a_file_over_the_cap_is_refused_by_its_size_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    // Sparse: 10 GiB that take no disk and must never be read.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(10 * 1024 * 1024 * 1024).unwrap();
    let err = read_to_string(&path, Limit::WORKFLOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("workflow {}: larger than the 1 MiB limit", path.display())
    );
    std::fs::write(&path, "0123456789abcdefg").unwrap();
    assert!(matches!(
        read(&path, SMALL),
        Err(ReadError::TooLarge { cap: 16, .. })
    ));
}

#[test]
fn an_endless_stream_is_cut_at_the_cap_plus_one_byte() {
    let endless = std::io::repeat(b'a');
    let err = read_stream_to_string(endless, Path::new("-"), SMALL).unwrap_err();
    assert_eq!(err.to_string(), "config -: larger than the 16 bytes limit");
    let ok = read_stream_to_string(&b"sixteen bytes!!!"[..], Path::new("-"), SMALL).unwrap();
    assert_eq!(ok.len(), 16);
}

#[test]
fn a_missing_file_says_so_and_is_recognisable() {
    let dir = tempfile::tempdir().unwrap();
    let err = read(&dir.path().join("none"), SMALL).unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn bytes_that_are_not_utf8_are_not_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin");
    std::fs::write(&path, [0xff, 0xfe]).unwrap();
    assert_eq!(
        read_to_string(&path, SMALL).unwrap_err().reason(),
        "not UTF-8 text"
    );
}

#[test]
fn sizes_read_as_people_write_them() {
    assert_eq!(human_size(1024 * 1024), "1 MiB");
    assert_eq!(human_size(64 * 1024 * 1024), "64 MiB");
    assert_eq!(human_size(512 * 1024), "512 KiB");
    assert_eq!(human_size(100), "100 bytes");
}

#[test]
fn opening_a_fifo_swapped_in_after_the_check_does_not_wait_for_a_writer() {
    // The second line of defence: were the path a FIFO by the time it is
    // opened, the open returns at once (a plain open would block for ever)
    // and the handle's type check refuses it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late");
    mkfifo(&path);
    let file = open(&path).unwrap();
    let meta = file.metadata().unwrap();
    assert_eq!(
        check(&path, SMALL, &meta).unwrap_err().reason(),
        "not a regular file (a FIFO)"
    );
}
