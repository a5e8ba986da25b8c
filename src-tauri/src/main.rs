// No console window behind the app on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The allocator of the desk (and of its empty-window floor): a snapshot's
/// or a pulled page's ops are parsed on one thread and freed on another,
/// where the system's allocator spent a fifth of a bootstrap's apply
/// (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if let Err(e) = kanoon_desk::run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
