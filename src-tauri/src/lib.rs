//! Kanoon Desk's Tauri shell: opens this desk's center database and
//! exposes the store's use cases to the window as commands.

pub mod auth;
pub mod bindings;
pub mod commands;
pub mod error;
pub mod state;
pub mod sync;

use tauri::Manager;

use crate::state::AppState;

/// A one-time enrolment code as typed: any digit script, spaces and dashes
/// dropped (the server normalizes too).
pub fn sync_code(typed: &str) -> String {
    kanoon_domain::text::to_ascii_digits(typed).chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Starts the window. Errors before the window exists are printed in
/// Persian and English (there is no window yet to show them in).
pub fn run() -> Result<(), String> {
    tauri::Builder::default()
        .setup(|app| {
            let path = state::database_path(app.path().app_data_dir().ok())?;
            let test_clock = std::env::var(state::TEST_CLOCK_ENV).is_ok_and(|v| v == "1");
            let state = AppState::open(&path, test_clock)?;
            // Sync problems must not keep the desk from opening: the status
            // bar shows them.
            if let Err(e) = state.start_sync() {
                eprintln!("sync not started: {e}");
            }
            app.manage(state);
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
        .map_err(|e| format!("پنجره برنامه باز نشد (the window could not start): {e}"))
}
