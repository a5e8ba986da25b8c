//! Creates a demo center database filled with realistic data.
//!
//! kanoon-demo <db-path> [--fraction F] [--seed N]
//!
//! F = 1 is the reference size of the design (60,000 copies, 40,000
//! titles, 6,000 members, 300,000 past loans). An existing file is refused.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use kanoon_store::Desk;
use kanoon_store::demo::{DemoSize, demo_center, generate};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut path: Option<PathBuf> = None;
    let mut fraction = 0.1;
    let mut seed = 1404;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--fraction" => fraction = args.next().context("--fraction needs a number")?.parse()?,
            "--seed" => seed = args.next().context("--seed needs a number")?.parse()?,
            "-h" | "--help" => {
                println!("usage: kanoon-demo <db-path> [--fraction F] [--seed N]");
                return Ok(());
            }
            other if path.is_none() => path = Some(PathBuf::from(other)),
            other => bail!("unexpected argument {other}"),
        }
    }
    let path = path.context("usage: kanoon-demo <db-path> [--fraction F] [--seed N]")?;
    if path.exists() {
        bail!("{} already exists; choose a new file", path.display());
    }
    let started = Instant::now();
    let mut desk = Desk::open(&path)?;
    desk.setup(demo_center("manager"), "kanoon1404")?;
    let size = DemoSize::fraction(fraction);
    let summary = generate(&mut desk, size, seed)?;
    eprintln!("{}: {summary} in {:.1} s", path.display(), started.elapsed().as_secs_f64());
    Ok(())
}
