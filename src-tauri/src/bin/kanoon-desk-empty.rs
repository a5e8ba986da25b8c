//! An empty Tauri window of the same build: the memory and start-up floor
//! the desktop benchmark measures the app against (docs/BENCHMARKS.md).

use tauri::{WebviewUrl, WebviewWindowBuilder};

/// The app's allocator: the floor is measured like for like.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut context = tauri::generate_context!();
    // Not the app's window: only the blank one below.
    context.config_mut().app.windows.clear();
    let result = tauri::Builder::default()
        .setup(|app| {
            // A blank page served like the app's own (same protocol, same
            // injected IPC scripts), without the app's code, styles or fonts.
            let url = WebviewUrl::App("empty.html".into());
            WebviewWindowBuilder::new(app, "empty", url).title("empty").inner_size(1280.0, 800.0).build()?;
            Ok(())
        })
        .run(context);
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
