//! What each fuzz target does with its bytes. `fuzz/` (cargo fuzz) calls
//! these under coverage guidance outside CI; `tests/corpus.rs` replays the
//! saved corpus through the same functions in CI. A target panics only on
//! a broken promise of the code under test; malformed input is expected.
//!
//! - `op`: the server's reading of one pushed op (`IncomingOp::parse`), its
//!   bounds check, and that an op read once writes back to the same op
//!   (unknown fields and kinds included: desks pass them on unchanged).
//! - `pull_page`: the desk's op-by-op reading of a pull page, then applying
//!   it to a set-up desk: whatever the page holds, applying it fails only
//!   as an error, never a panic, and the desk still answers afterwards.
//! - `snapshot`: the same for a snapshot, applied to a desk that never pulled.
//! - `stick`: an ops file carried on a USB stick (`kanoon_protocol::stick`):
//!   what reads is of one center, as many ops as it says, each within
//!   bounds; written again it reads the same; a desk given it answers with
//!   an error or a report, never a panic.
//! - `import`: the old software's files (CSV in any of the read encodings,
//!   XLSX) read into a table and parsed as each of the three import kinds
//!   with the suggested column mapping.

use std::sync::{LazyLock, Mutex};

use kanoon_domain::entities::CenterKind;
use kanoon_import::{ImportKind, Table};
use kanoon_protocol::Op;
use kanoon_server::IncomingOp;
use kanoon_store::{Desk, SetupRequest};

/// A target: its name (the corpus folder) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by the name of its folder under `fuzz/corpus/`.
pub const TARGETS: &[Target] =
    &[("op", op), ("pull_page", pull_page), ("snapshot", snapshot), ("import", import), ("stick", stick)];

pub fn op(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let Ok(incoming) = IncomingOp::parse(json) else { return };
    let _ = kanoon_protocol::bounds::check_op(&incoming.op, json);
    let written = serde_json::to_string(&incoming.op).unwrap_or_else(|e| panic!("an op read cannot be written: {e}"));
    let again: Op =
        serde_json::from_str(&written).unwrap_or_else(|e| panic!("an op written cannot be read: {e}\n{written}"));
    assert_eq!(again, incoming.op, "an op changes when written and read again");
}

/// Argon2 once per process: a fresh desk per input stays cheap.
static PASSWORD_HASH: LazyLock<String> =
    LazyLock::new(|| kanoon_store::auth::hash_password("fuzz-password").unwrap_or_default());

fn set_up_desk() -> Option<Desk> {
    let mut desk = Desk::open_in_memory().ok()?;
    let request = SetupRequest {
        center_code: "1234".into(),
        center_name: "مرکز آزمایش".into(),
        center_kind: CenterKind::Fixed,
        desk_number: 1,
        manager_username: "manager".into(),
        manager_full_name: "مدیر آزمایش".into(),
    };
    desk.setup_with_password_hash(request, PASSWORD_HASH.clone()).ok()?;
    Some(desk)
}

/// One desk for every page: pages pile up as they do on a real desk.
static PULLING_DESK: LazyLock<Mutex<Option<Desk>>> = LazyLock::new(|| Mutex::new(set_up_desk()));

pub fn pull_page(data: &[u8]) {
    let Ok(page) = kanoon_sync::read_page(data) else { return };
    let mut guard = PULLING_DESK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(desk) = guard.as_mut() else { panic!("a desk could not be set up") };
    let _ = desk.apply_pulled_page(&page.ops, &page.unreadable, page.cursor);
    desk.sync_exceptions().unwrap_or_else(|e| panic!("the desk no longer answers after a page: {e}"));
}

pub fn snapshot(data: &[u8]) {
    let Ok(snapshot) = kanoon_sync::read_snapshot(data) else { return };
    let Some(mut desk) = set_up_desk() else { panic!("a desk could not be set up") };
    let _ = desk.apply_snapshot_with_unreadable(&snapshot.ops, &snapshot.unreadable, snapshot.cursor);
    desk.sync_exceptions().unwrap_or_else(|e| panic!("the desk no longer answers after a snapshot: {e}"));
}

pub fn stick(data: &[u8]) {
    use kanoon_protocol::stick;
    if let Ok(file) = stick::read(data) {
        assert_eq!(file.ops.len(), file.header.count, "a file read holds another count of ops than it says");
        assert!(file.ops.iter().all(|o| o.center_id == file.header.center_id), "a file read holds another center's op");
        let _ = file.verify(&stick::device_key("fuzz"));
        let again = stick::write(file.header.center_id, file.header.device_id, None, "", &file.ops);
        let reread = stick::read(&again).unwrap_or_else(|e| panic!("a file written again cannot be read: {e}"));
        assert_eq!(reread.ops, file.ops, "a file's ops change when written and read again");
    }
    let mut guard = PULLING_DESK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(desk) = guard.as_mut() else { panic!("a desk could not be set up") };
    let _ = desk.import_ops(data);
    desk.sync_exceptions().unwrap_or_else(|e| panic!("the desk no longer answers after a stick: {e}"));
}

pub fn import(data: &[u8]) {
    if let Ok(table) = kanoon_import::read_table(data) {
        parse_every_kind(&table);
    }
    if let Ok(sheets) = kanoon_import::xlsx_sheet_names(data) {
        for sheet in sheets.iter().take(3) {
            if let Ok(table) = kanoon_import::read_xlsx_sheet(data, sheet) {
                parse_every_kind(&table);
            }
        }
    }
}

fn parse_every_kind(table: &Table) {
    for kind in [ImportKind::Members, ImportKind::TitlesCopies, ImportKind::OpenLoans] {
        let mapping = kanoon_import::suggest_mapping(kind, &table.headers);
        match kind {
            ImportKind::Members => drop(kanoon_import::parse_members(table, &mapping)),
            ImportKind::TitlesCopies => drop(kanoon_import::parse_titles_copies(table, &mapping)),
            ImportKind::OpenLoans => drop(kanoon_import::parse_open_loans(table, &mapping)),
        }
    }
}
