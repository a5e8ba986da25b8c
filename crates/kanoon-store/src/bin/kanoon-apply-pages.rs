//! Applies a file of pulled ops to a desk in pages, as the sync loop does
//! (chunk by chunk, the cursor saved with each page's last chunk), printing
//! `PAGE <seq>` after each page committed and `DONE` at the end. The crash
//! test (`tests/it/crash.rs`) kills it with SIGKILL at random moments —
//! mostly between two chunks of a page — and starts it again until it is
//! done: the desk then must hold what a fresh apply of the same pages gives.
//!
//! Usage: `kanoon-apply-pages <db-path> <ops.json> <page-size>`
//!
//! Every start resumes from the desk's cursor (`seq` = ops of the file
//! received), as the sync loop resumes from it after a crash.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use kanoon_protocol::Op;
use kanoon_protocol::wire::Cursor;
use kanoon_store::Desk;

fn main() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let usage = "usage: kanoon-apply-pages <db-path> <ops.json> <page-size>";
    let db: PathBuf = args.next().map(PathBuf::from).context(usage)?;
    let file: PathBuf = args.next().map(PathBuf::from).context(usage)?;
    let page: usize = args.next().and_then(|p| p.to_str()?.parse().ok()).filter(|p| *p > 0).context(usage)?;
    let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let ops: Vec<Op> = serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    let mut desk = Desk::open(&db).with_context(|| format!("opening {}", db.display()))?;
    if desk.identity().is_none() {
        bail!("{} is not set up", db.display());
    }
    let from = desk.sync_cursor().context("reading the cursor")?.map_or(0, |c| c.seq);
    let from = usize::try_from(from).context("cursor")?.min(ops.len());

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut seq = from;
    for chunk in ops[from..].chunks(page) {
        seq += chunk.len();
        let cursor = Cursor { epoch: 1, seq: seq as u64 };
        desk.apply_pulled(chunk, cursor).with_context(|| format!("applying the page ending at {seq}"))?;
        writeln!(out, "PAGE {seq}")?;
        out.flush()?;
    }
    writeln!(out, "DONE")?;
    out.flush()?;
    Ok(())
}
