//! Kanoon Desk's Tauri shell: opens this desk's center database and
//! exposes the store's use cases to the window as commands.

pub mod auth;
pub mod bindings;
pub mod commands;
pub mod error;
pub mod state;

use tauri::Manager;

use crate::state::AppState;

/// Starts the window. Errors before the window exists are printed in
/// Persian and English (there is no window yet to show them in).
pub fn run() -> Result<(), String> {
    tauri::Builder::default()
        .setup(|app| {
            let path = state::database_path(app.path().app_data_dir().ok())?;
            let test_clock = std::env::var(state::TEST_CLOCK_ENV).is_ok_and(|v| v == "1");
            app.manage(AppState::open(&path, test_clock)?);
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
        .map_err(|e| format!("پنجره برنامه باز نشد (the window could not start): {e}"))
}
