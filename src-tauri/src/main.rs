// No console window behind the app on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = kanoon_desk::run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
