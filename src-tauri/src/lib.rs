//! Kanoon Desk's Tauri shell: opens this desk's center database and
//! exposes the store's use cases to the window as commands.

pub mod bindings;
pub mod commands;
pub mod error;
pub mod state;
pub mod sync;

#[cfg(test)]
mod access_tests;

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
        // Used from Rust only (`folder_dialog`); the window has no dialog
        // permission in capabilities/.
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            let path = state::database_path(app.path().app_data_dir().ok())?;
            let test_clock = std::env::var(state::TEST_CLOCK_ENV).is_ok_and(|v| v == "1");
            let mut state = AppState::open(&path, test_clock)?;
            state.set_picker(folder_dialog(app.handle().clone()));
            // Sync problems must not keep the desk from opening: the status
            // bar shows them.
            if let Err(e) = state.start_sync() {
                eprintln!("sync not started: {e}");
            }
            app.manage(state);
            for window in app.webview_windows().values() {
                software_rendering(window)?;
            }
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
        .map_err(|e| format!("پنجره برنامه باز نشد (the window could not start): {e}"))
}

/// The system dialog for backup and restore, opened from Rust: the path
/// goes straight from the dialog to the store, never through the window.
fn folder_dialog(app: tauri::AppHandle) -> state::Picker {
    use tauri_plugin_dialog::DialogExt;
    Box::new(move |what| {
        let dialog = app.dialog().file();
        let chosen = match what {
            state::Pick::BackupFolder => dialog.set_title("پوشه پشتیبان را انتخاب کنید").blocking_pick_folder(),
            state::Pick::BackupFile => dialog
                .set_title("پرونده پشتیبان را انتخاب کنید")
                .add_filter("پشتیبان کانون", &["sqlite"])
                .blocking_pick_file(),
            state::Pick::StickFolder => dialog.set_title("پوشهٔ فلش را انتخاب کنید").blocking_pick_folder(),
            state::Pick::StickFile => dialog
                .set_title("پروندهٔ انتقال را از فلش انتخاب کنید")
                .add_filter("انتقال کانون", &["kanoon-ops"])
                .blocking_pick_file(),
        };
        chosen.and_then(|p| p.into_path().ok())
    })
}

/// Draws the window without WebKit's accelerated compositing. The desk is
/// forms and tables: software painting keeps up (scan → row stays within
/// its budget) and the web process needs far less memory without the GL
/// buffers compositing keeps (docs/BENCHMARKS.md), which matters on the
/// centers' older PCs; it also sidesteps the blank-window bugs of some
/// Linux GPU drivers. Set before the page's first paint.
#[cfg(target_os = "linux")]
fn software_rendering(window: &tauri::WebviewWindow) -> tauri::Result<()> {
    window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = webview.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    })
}

#[cfg(not(target_os = "linux"))]
fn software_rendering(_window: &tauri::WebviewWindow) -> tauri::Result<()> {
    Ok(())
}
