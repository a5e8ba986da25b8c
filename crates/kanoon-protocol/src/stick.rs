//! Ops carried on a USB stick (issue 14): a van whose base has no internet
//! takes its ops to the server, or to another desk of its center, in a
//! file. The file holds the same ops a push would, so applying it is the
//! same idempotent apply: a stick carried twice changes nothing.
//!
//! The format is JSON lines: a header line, then one op per line.
//! The header names the center and the device that wrote the file, how
//! many ops follow, and an HMAC-SHA256 of the op lines keyed with the
//! device's credential (`device_key`: the SHA-256 of its sync token, which
//! the server keeps too), so the server can check where a file came from;
//! another desk checks the center and the shape. Every op must be of the
//! header's center and within `bounds`.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Op, bounds};

/// What the header's `format` says.
pub const FORMAT: &str = "kanoon-ops";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// Largest file read (a month of a van's ops is a few MB).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Most ops in one file.
pub const MAX_OPS: usize = 200_000;
/// Longest header line.
const MAX_HEADER_BYTES: usize = 4096;

/// The first line of an ops file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StickHeader {
    pub format: String,
    pub version: u32,
    pub center_id: Uuid,
    pub device_id: Uuid,
    pub count: usize,
    /// When it was written (RFC 3339), for the file's name and the log.
    pub written_at: String,
    /// HMAC-SHA256 of the header's other fields and the op lines (each
    /// followed by `\n`), lowercase hex; "" when the desk had no
    /// credential to sign with (not enrolled).
    pub mac: String,
}

/// A file read and checked for shape: its header and its ops.
#[derive(Clone, Debug, PartialEq)]
pub struct OpsFile {
    pub header: StickHeader,
    pub ops: Vec<Op>,
    /// The op lines as read, for `verify`.
    body: Vec<u8>,
}

/// Why a file is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StickError {
    #[error("the file is {0} bytes; at most {MAX_FILE_BYTES}")]
    TooLarge(usize),
    #[error("the file is not a Kanoon ops file: {0}")]
    NotOpsFile(String),
    #[error("the file is of format version {0}; this version reads {VERSION}")]
    Version(u32),
    #[error("the header says {expected} ops, the file holds {found}")]
    Count { expected: usize, found: usize },
    #[error("op {line} is not an op: {error}")]
    BadOp { line: usize, error: String },
    #[error("op {line} is out of bounds: {error}")]
    OutOfBounds { line: usize, error: String },
    #[error("op {line} is of center {found}, the file of center {expected}")]
    OtherCenter { line: usize, expected: Uuid, found: Uuid },
}

/// The key a device signs its files with: the SHA-256 of its sync token,
/// lowercase hex (what the server stores as the token's hash).
pub fn device_key(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Writes `ops` (every one of `center_id`) as an ops file, signed with
/// `key` (`device_key`) when there is one.
pub fn write(center_id: Uuid, device_id: Uuid, key: Option<&str>, written_at: &str, ops: &[Op]) -> Vec<u8> {
    let mut body = Vec::new();
    for op in ops {
        // An `Op` always serializes (its JSON values are values already).
        if let Ok(line) = serde_json::to_vec(op) {
            body.extend_from_slice(&line);
            body.push(b'\n');
        }
    }
    let header = StickHeader {
        format: FORMAT.to_owned(),
        version: VERSION,
        center_id,
        device_id,
        count: ops.len(),
        written_at: written_at.to_owned(),
        mac: String::new(),
    };
    let header = StickHeader { mac: key.map(|k| mac(k, &signed(&header, &body))).unwrap_or_default(), ..header };
    let mut out = serde_json::to_vec(&header).unwrap_or_default();
    out.push(b'\n');
    out.extend_from_slice(&body);
    out
}

/// Reads an ops file and checks its shape: the header, the count, every
/// op parsed, within bounds and of the header's center. The signature is
/// `OpsFile::verify`'s.
pub fn read(bytes: &[u8]) -> Result<OpsFile, StickError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(StickError::TooLarge(bytes.len()));
    }
    let (head, body) = match bytes.iter().position(|b| *b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[][..]),
    };
    if head.len() > MAX_HEADER_BYTES {
        return Err(StickError::NotOpsFile("its first line is too long for a header".into()));
    }
    let header: StickHeader =
        serde_json::from_slice(head).map_err(|e| StickError::NotOpsFile(format!("its header: {e}")))?;
    if header.format != FORMAT {
        return Err(StickError::NotOpsFile(format!("format «{}»", header.format.escape_debug())));
    }
    if header.version != VERSION {
        return Err(StickError::Version(header.version));
    }
    if header.count > MAX_OPS {
        return Err(StickError::NotOpsFile(format!("{} ops; at most {MAX_OPS}", header.count)));
    }
    let lines: Vec<&[u8]> = body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    if lines.len() != header.count {
        return Err(StickError::Count { expected: header.count, found: lines.len() });
    }
    let mut ops = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let number = i + 1;
        let text = std::str::from_utf8(line)
            .map_err(|e| StickError::BadOp { line: number, error: format!("not UTF-8: {e}") })?;
        // Measured before parsing: a line too deep for the parser is refused by its depth.
        if bounds::json_depth(text) > bounds::MAX_OP_DEPTH {
            return Err(StickError::OutOfBounds { line: number, error: "too deep".into() });
        }
        let op: Op =
            serde_json::from_str(text).map_err(|e| StickError::BadOp { line: number, error: e.to_string() })?;
        bounds::check_op(&op, text).map_err(|e| StickError::OutOfBounds { line: number, error: e.to_string() })?;
        if op.center_id != header.center_id {
            return Err(StickError::OtherCenter { line: number, expected: header.center_id, found: op.center_id });
        }
        ops.push(op);
    }
    Ok(OpsFile { header, ops, body: body.to_vec() })
}

impl OpsFile {
    /// Each op's line as written (what a server stores, as a push's text).
    pub fn op_texts(&self) -> impl Iterator<Item = &str> {
        // `read` checked every line is UTF-8.
        self.body.split(|b| *b == b'\n').filter(|l| !l.is_empty()).filter_map(|l| std::str::from_utf8(l).ok())
    }

    /// Whether the file was signed with `key` (`device_key` of the
    /// header's device) and its ops are as signed.
    pub fn verify(&self, key: &str) -> bool {
        let Ok(expected) = unhex(&self.header.mac) else { return false };
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else { return false };
        m.update(&signed(&self.header, &self.body));
        m.verify_slice(&expected).is_ok()
    }
}

/// What the signature covers: the header's fields but the signature
/// itself (so no header field can be changed — e.g. the device a file
/// claims to be from), then the op lines.
fn signed(header: &StickHeader, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n",
        header.format, header.version, header.center_id, header.device_id, header.count, header.written_at
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn mac(key: &str, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut m) => {
            m.update(body);
            hex(&m.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, ()> {
    if s.len() != 64 || !s.is_ascii() {
        return Err(());
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| ())).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{EntityKind, Hlc, OpBody, SCHEMA_VERSION};

    fn op(center: Uuid, n: i64) -> Op {
        Op {
            op_id: Uuid::now_v7(),
            schema_version: SCHEMA_VERSION,
            hlc: Hlc { wall_ms: 1_750_000_000_000 + n, counter: 0 },
            device_id: Uuid::now_v7(),
            center_id: center,
            entity: EntityKind::new(EntityKind::VAN_VISIT),
            entity_id: Uuid::now_v7(),
            staff_id: None,
            body: OpBody::Event {
                kind: "opened".into(),
                data: serde_json::json!({"village_id": Uuid::now_v7(), "day": "2025-04-05"}),
            },
            extra: Default::default(),
        }
    }

    fn bytes_of(center: Uuid, key: &str, ops: &[Op]) -> Vec<u8> {
        write(center, Uuid::now_v7(), Some(key), "2025-04-05T10:00:00Z", ops)
    }

    #[test]
    fn a_file_reads_back_its_ops_and_its_signature_checks_only_with_its_key() {
        let center = Uuid::now_v7();
        let ops: Vec<Op> = (0..3).map(|n| op(center, n)).collect();
        let key = device_key("token of the van");
        let bytes = bytes_of(center, &key, &ops);
        let file = read(&bytes).unwrap();
        assert_eq!(file.ops, ops);
        assert!(file.verify(&key));
        assert!(!file.verify(&device_key("another desk")));
        // One byte of an op changed: the signature no longer holds.
        let text = String::from_utf8(bytes).unwrap().replace("2025-04-05\"", "2025-04-06\"");
        let tampered = read(text.as_bytes()).unwrap();
        assert!(!tampered.verify(&key));
        // The header is signed too: the file claiming another device fails.
        let mut renamed = read(&bytes_of(center, &key, &ops)).unwrap();
        assert!(renamed.verify(&key));
        renamed.header.device_id = Uuid::now_v7();
        assert!(!renamed.verify(&key));
        // Unsigned (a desk not enrolled): read, never verified.
        let unsigned = read(&write(center, Uuid::now_v7(), None, "", &ops)).unwrap();
        assert!(!unsigned.verify(&key));
    }

    #[test]
    fn another_centers_op_a_wrong_count_or_a_foreign_file_is_refused() {
        let center = Uuid::now_v7();
        let mut ops: Vec<Op> = (0..2).map(|n| op(center, n)).collect();
        ops.push(op(Uuid::now_v7(), 9));
        let bytes = write(center, Uuid::now_v7(), None, "", &ops);
        assert!(matches!(read(&bytes), Err(StickError::OtherCenter { line: 3, .. })));
        let good = write(center, Uuid::now_v7(), None, "", &ops[..2]);
        let short = &good[..good.len() - 10];
        assert!(read(short).is_err());
        let mut extra = good.clone();
        extra.extend_from_slice(b"{}\n");
        assert!(matches!(read(&extra), Err(StickError::Count { expected: 2, found: 3 })));
        assert!(matches!(read(b"name,phone\n1,2\n"), Err(StickError::NotOpsFile(_))));
        assert!(matches!(read(b""), Err(StickError::NotOpsFile(_))));
        let deep = format!(
            "{}\n{}\n",
            String::from_utf8(good.split(|b| *b == b'\n').next().unwrap().to_vec())
                .unwrap()
                .replace("\"count\":2", "\"count\":1"),
            "[".repeat(100_000)
        );
        assert!(matches!(read(deep.as_bytes()), Err(StickError::OutOfBounds { line: 1, .. })));
    }
}
