//! Ops files carried on a USB stick (`kanoon_protocol::stick`) for a van
//! or center whose base has no internet: `import-ops` stores a desk's file
//! as if the desk had pushed it; `export-ops` writes a center's ops for
//! one of its desks to read.
//!
//! An imported file must be signed by an enrolled, unrevoked device of the
//! file's center with its current credential; its ops then go through the
//! same push as over HTTP (`Storage::push`: every check, each op stored
//! once), so a stick carried twice stores nothing the second time.

use kanoon_protocol::stick::{self, StickError};
use kanoon_protocol::wire::{Cursor, MAX_PUSH_OPS, RejectedOp};
use serde::Serialize;
use uuid::Uuid;

use crate::error::AppError;
use crate::storage::{IncomingOp, MAX_PULL_LIMIT, Storage};

/// What storing a file did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OpsImport {
    pub center_id: Uuid,
    pub device_id: Uuid,
    pub ops: usize,
    pub accepted: usize,
    /// Stored before (over HTTP, or the same file read again).
    pub duplicates: usize,
    /// Refused for their content, with their codes, as a push refuses them.
    pub rejected: Vec<RejectedOp>,
}

/// Stores an ops file as its device's push.
pub fn import_ops(storage: &dyn Storage, bytes: &[u8]) -> Result<OpsImport, AppError> {
    let file = stick::read(bytes).map_err(|e| refused(&e))?;
    let (center_id, device_id) = (file.header.center_id, file.header.device_id);
    let Some(device) = storage.device_key(device_id)? else {
        return Err(AppError::unauthorized(format!(
            "device {device_id} that wrote the file is not enrolled on this server; nothing stored"
        )));
    };
    if device.revoked {
        return Err(AppError::unauthorized(format!(
            "device {device_id} that wrote the file is revoked; nothing stored (re-enrol it, then export again)"
        )));
    }
    if device.center_id != center_id {
        return Err(AppError::unauthorized(format!(
            "the file names center {center_id}, device {device_id} is of another center; nothing stored"
        )));
    }
    if !file.verify(&device.key) {
        return Err(AppError::unauthorized(
            "the file's signature does not match its device's credential (changed after writing, unsigned, \
             or written before the device was re-enrolled); nothing stored",
        ));
    }
    let mut report = OpsImport { center_id, device_id, ops: file.ops.len(), ..OpsImport::default() };
    let texts: Vec<&str> = file.op_texts().collect();
    for chunk in texts.chunks(MAX_PUSH_OPS) {
        // Each op's text as the desk wrote it, as a push stores it.
        let incoming = chunk.iter().map(|t| IncomingOp::parse(t)).collect::<Result<Vec<_>, _>>()?;
        let pushed = storage.push(center_id, device_id, &incoming)?;
        report.accepted += pushed.accepted.len();
        report.duplicates += pushed.duplicates.len();
        report.rejected.extend(pushed.rejected);
    }
    Ok(report)
}

/// The ops of `device`'s center after `after` (a log position; 0 for the
/// whole log), as a file signed for that device (its desk checks the
/// signature). Only the center's own ops: the province's titles and
/// settings and copies of other centers still come with the next sync.
pub fn export_ops(
    storage: &dyn Storage,
    device_id: Uuid,
    after: u64,
    written_at: &str,
) -> Result<(Vec<u8>, usize), AppError> {
    let Some(device) = storage.device_key(device_id)? else {
        return Err(AppError::not_found(format!("device {device_id} is not enrolled on this server")));
    };
    if device.revoked {
        return Err(AppError::unauthorized(format!("device {device_id} is revoked; re-enrol it first")));
    }
    let mut cursor = Cursor { epoch: storage.epoch(), seq: after };
    let mut ops = Vec::new();
    loop {
        let page = storage.pull(device.center_id, cursor, MAX_PULL_LIMIT)?;
        ops.extend(page.ops.into_iter().filter(|op| op.center_id == device.center_id));
        if ops.len() > stick::MAX_OPS {
            return Err(AppError::too_large(format!(
                "more than {} ops after {after}; export from a later position in several files",
                stick::MAX_OPS
            )));
        }
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    let n = ops.len();
    Ok((stick::write(device.center_id, device_id, Some(&device.key), written_at, &ops), n))
}

fn refused(e: &StickError) -> AppError {
    match e {
        StickError::TooLarge(_) => AppError::too_large(format!("{e}; nothing stored")),
        _ => AppError::bad_request(format!("{e}; nothing stored")),
    }
}
