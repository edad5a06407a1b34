//! Writes the man page, `agentls.1`, into OUT_DIR from the command line's
//! grammar (src/cli/args.rs); `agentls man` prints it.

#[allow(dead_code)]
#[path = "src/cli/args.rs"]
mod args;

use clap::CommandFactory;

fn main() {
    println!("cargo::rerun-if-changed=src/cli/args.rs");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut page = Vec::new();
    clap_mangen::Man::new(args::Cli::command())
        .render(&mut page)
        .expect("the man page renders");
    std::fs::write(out.join("agentls.1"), page).expect("OUT_DIR is writable");
}
