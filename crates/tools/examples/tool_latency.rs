//! What the built-in tools cost per call, on a generated tree: 10,000 files
//! in 100 directories (half of them under a `.gitignore`d `target/`), one
//! 2,000-line source file. Run with
//! `cargo run --release -p agentls-tools --example tool_latency [repeats]`;
//! prints the median and the slowest of each measure.

use std::fs;
use std::time::{Duration, Instant};

use agentls_tools::Tools;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repeats: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(51);
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    fs::write(root.join(".gitignore"), "target/\n")?;
    for d in 0..100 {
        let parent = if d % 2 == 0 { "src" } else { "target" };
        let sub = root.join(parent).join(format!("m{d:03}"));
        fs::create_dir_all(&sub)?;
        for f in 0..100 {
            fs::write(
                sub.join(format!("f{f:03}.rs")),
                format!("// module {d} file {f}\npub fn f{f}() -> u32 {{ {f} }}\n"),
            )?;
        }
    }
    let big: String = (1..=2000)
        .map(|n| format!("    let value_{n} = compute({n});\n"))
        .collect();
    fs::write(root.join("src/big.rs"), &big)?;
    let tools = Tools::new(root)?;

    measure("read_file, 2 lines", repeats, || {
        tools
            .read_file("src/m000/f000.rs", None, None, None)
            .map(drop)
    })?;
    measure("read_file, 2,000 lines", repeats, || {
        tools.read_file("src/big.rs", None, None, None).map(drop)
    })?;
    measure("plan_edit, 2,000-line file", repeats, || {
        tools
            .plan_edit("src/big.rs", "compute(1000)", "compute(1001)", &big)
            .map(drop)
    })?;
    measure("list_files, one directory", repeats, || {
        tools.list_files(Some("src/m042"), None).map(drop)
    })?;
    measure(
        "list_files, whole tree (5,002 files, 1,000 shown)",
        repeats,
        || tools.list_files(None, None).map(drop),
    )?;
    measure(
        "search, whole tree (5,000 matching lines, 200 shown)",
        repeats,
        || tools.search(r"pub fn f\d+", None, None).map(drop),
    )?;
    Ok(())
}

fn measure<E: std::fmt::Debug>(
    what: &str,
    repeats: usize,
    mut call: impl FnMut() -> Result<(), E>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut times: Vec<Duration> = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        call().map_err(|err| format!("{what}: {err:?}"))?;
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{what}: median {:.3} ms, slowest {:.3} ms",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
    Ok(())
}
