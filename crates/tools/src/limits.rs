//! The caps of what the tools give back to a model. A model's context is
//! the scarce resource: every result is bounded, and says so when it is cut.

/// `read_file`: the most lines shown at once.
pub const READ_LINES_CAP: usize = 2000;
/// `read_file`: the most bytes of text shown at once.
pub const READ_BYTES_CAP: usize = 100 * 1024;
/// `read_file` and `search`: the most characters of one line.
pub const LINE_CHARS_CAP: usize = 2000;
/// `list_files`: the most paths shown.
pub const LIST_CAP: usize = 1000;
/// `search`: the most matching lines shown.
pub const SEARCH_CAP: usize = 200;
/// `search`: the most characters of one matching line.
pub const SEARCH_LINE_CHARS_CAP: usize = 300;
/// `run_command`: the default cap of the output shown to the model.
pub const COMMAND_OUTPUT_CAP: usize = 30 * 1024;
/// `search`: a line longer than this (bytes) makes the searcher skip the
/// file rather than grow its buffer without bound (minified bundles).
pub const SEARCH_HEAP_LIMIT: usize = 8 * 1024 * 1024;
