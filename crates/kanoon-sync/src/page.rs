//! Pull pages and snapshots read op by op: an op that does not parse (an
//! older server served it, or a shape this version cannot read) is set
//! aside as an exception by the desk and the rest applies, instead of the
//! whole page failing and being asked for again forever.

use kanoon_protocol::Op;
use kanoon_protocol::wire::Cursor;
use kanoon_store::sync::UnreadableOp;
use serde::Deserialize;
use serde_json::value::RawValue;

/// A pull page as read: its ops that parsed, those that did not, where it ends.
#[derive(Debug)]
pub struct Page {
    pub ops: Vec<Op>,
    pub unreadable: Vec<UnreadableOp>,
    pub cursor: Cursor,
    pub more: bool,
}

/// A snapshot as read.
#[derive(Debug)]
pub struct Snapshot {
    pub cursor: Cursor,
    pub ops: Vec<Op>,
    pub unreadable: Vec<UnreadableOp>,
}

/// The page's shape with each op still text (no depth limit applies to
/// an op skipped as text, so a page always reads).
#[derive(Deserialize)]
pub(crate) struct RawPage {
    ops: Vec<Box<RawValue>>,
    cursor: Cursor,
    more: bool,
}

#[derive(Deserialize)]
pub(crate) struct RawSnapshot {
    cursor: Cursor,
    ops: Vec<Box<RawValue>>,
}

impl From<RawPage> for Page {
    fn from(raw: RawPage) -> Page {
        let (ops, unreadable) = parse_each(raw.ops);
        Page { ops, unreadable, cursor: raw.cursor, more: raw.more }
    }
}

impl From<RawSnapshot> for Snapshot {
    fn from(raw: RawSnapshot) -> Snapshot {
        let (ops, unreadable) = parse_each(raw.ops);
        Snapshot { cursor: raw.cursor, ops, unreadable }
    }
}

/// Reads a pull page's JSON as the client does (op by op).
pub fn read_page(json: &[u8]) -> Result<Page, serde_json::Error> {
    serde_json::from_slice::<RawPage>(json).map(Page::from)
}

/// Reads a snapshot's JSON as the client does (op by op).
pub fn read_snapshot(json: &[u8]) -> Result<Snapshot, serde_json::Error> {
    serde_json::from_slice::<RawSnapshot>(json).map(Snapshot::from)
}

fn parse_each(raw: Vec<Box<RawValue>>) -> (Vec<Op>, Vec<UnreadableOp>) {
    let mut ops = Vec::with_capacity(raw.len());
    let mut unreadable = Vec::new();
    for text in raw {
        match serde_json::from_str::<Op>(text.get()) {
            Ok(op) => ops.push(op),
            Err(e) => unreadable.push(UnreadableOp { json: text.get().to_owned(), error: e.to_string() }),
        }
    }
    (ops, unreadable)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_page_with_an_op_too_deep_or_malformed_reads_the_rest() {
        let good = r#"{"op_id":"01934f3c-0000-7000-8000-000000000001","schema_version":1,"hlc":{"wall_ms":5,"counter":1},
            "device_id":"01934f3c-0000-7000-8000-000000000002","center_id":"01934f3c-0000-7000-8000-000000000003",
            "entity":"title","entity_id":"01934f3c-0000-7000-8000-000000000004","staff_id":null,
            "body":{"type":"patch","fields":{"title":{"value":"x","base":null}}}}"#;
        let deep = good.replace(r#""value":"x""#, &format!(r#""value":{}1{}"#, "[".repeat(300), "]".repeat(300)));
        let json = format!(r#"{{"ops":[{good},{deep},{{"op_id":1}},{good}],"cursor":"7:9","more":true}}"#);
        let page: Page = serde_json::from_str::<RawPage>(&json).unwrap().into();
        assert_eq!((page.ops.len(), page.unreadable.len()), (2, 2));
        assert_eq!((page.cursor, page.more), (Cursor { epoch: 7, seq: 9 }, true));
        assert!(page.unreadable[0].json.starts_with('{'));
        let snapshot: Snapshot =
            serde_json::from_str::<RawSnapshot>(&format!(r#"{{"cursor":"7:9","ops":[{deep},{good}]}}"#))
                .unwrap()
                .into();
        assert_eq!((snapshot.ops.len(), snapshot.unreadable.len()), (1, 1));
    }
}
