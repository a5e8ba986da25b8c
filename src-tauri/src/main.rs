// No console window behind the app on Windows.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The allocator of the desk (and of its empty-window floor): a snapshot's
/// or a pulled page's ops are parsed on one thread and freed on another,
/// where the system's allocator spent a fifth of a bootstrap's apply
/// (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The variable JavaScriptCore reads its JIT switch from; the web process
/// WebKit starts for the window inherits the app's environment.
const JSC_JIT_ENV: &str = "JSC_useJIT";

/// Runs the window's JavaScript without JavaScriptCore's JIT compilers,
/// unless `JSC_useJIT` is already set (to try the JIT: `JSC_useJIT=1`).
/// Over a day of scans the JIT's code and profiling data grew the web
/// process by ~20–30 MB and kept it; interpreted, the web process stays
/// flat (113 → 121 MB over 1,000 loans) and a scan costs a few ms more
/// (docs/BENCHMARKS.md, "Memory like for like"). The desk's JavaScript is
/// forms and tables: no hot loop needs compiling.
// The one `unsafe` of the workspace (its lint is `deny`, not `forbid`, for
// this): setting the environment is sound only while no other thread can
// read it, which holds here, first thing in `main`.
#[allow(unsafe_code)]
fn without_javascript_jit() {
    if std::env::var_os(JSC_JIT_ENV).is_none() {
        // SAFETY: called first thing in `main`: no other thread exists yet.
        unsafe { std::env::set_var(JSC_JIT_ENV, "0") };
    }
}

fn main() {
    without_javascript_jit();
    if let Err(e) = kanoon_desk::run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
