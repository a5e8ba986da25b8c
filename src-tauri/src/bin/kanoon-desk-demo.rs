//! Creates a demo center database for the desktop app: the store's demo
//! generator plus a password for the demo manager, so a newcomer can sign
//! in (README run command).
//!
//! kanoon-desk-demo <db-path> [--fraction F]   (an existing file is kept)

use std::path::PathBuf;

use kanoon_store::Desk;
use kanoon_store::demo::{DemoSize, demo_center, generate};

/// Printed by the run script; a demo database only.
const DEMO_USER: &str = "manager";
const DEMO_PASSWORD: &str = "kanoon";

fn main() {
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().ok_or("usage: kanoon-desk-demo <db-path> [--fraction F]")?);
    let mut fraction = 0.05;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--fraction" => {
                fraction = args.next().and_then(|f| f.parse().ok()).ok_or("--fraction needs a number such as 0.05")?
            }
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    if path.exists() {
        println!("{} exists; using it (user {DEMO_USER}, password {DEMO_PASSWORD})", path.display());
        return Ok(());
    }
    let mut desk = Desk::open(&path).map_err(|e| e.to_string())?;
    desk.setup(demo_center(DEMO_USER), DEMO_PASSWORD).map_err(|e| e.to_string())?;
    let s = generate(&mut desk, DemoSize::fraction(fraction), 1404).map_err(|e| e.to_string())?;
    println!("{}: {s}; sign in as {DEMO_USER} / {DEMO_PASSWORD}", path.display());
    Ok(())
}
