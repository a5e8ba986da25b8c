//! Pull pages and snapshots read op by op: an op that does not parse (an
//! older server served it, or a shape this version cannot read) is set
//! aside as an exception by the desk and the rest applies, instead of the
//! whole page failing and being asked for again forever.

use std::fmt;
use std::io::{BufReader, Read};

use kanoon_protocol::Op;
use kanoon_protocol::wire::Cursor;
use kanoon_store::bootstrap::SnapshotItem;
use kanoon_store::sync::UnreadableOp;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
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

/// Reads a snapshot's JSON from `input` as it comes, op by op as
/// `read_snapshot` does, handing each item to `send` once read (its cursor
/// too, wherever it stands). `send` answering false stops the read (an
/// error). Fails as `read_snapshot` does on JSON that is not a snapshot.
pub fn read_snapshot_streamed(
    input: impl Read,
    send: &mut impl FnMut(SnapshotItem) -> bool,
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(64 * 1024, input));
    StreamedSnapshot { send }.deserialize(&mut de)?;
    de.end()
}

/// The snapshot's object, its `ops` read element by element.
struct StreamedSnapshot<'s, F> {
    send: &'s mut F,
}

impl<'de, F: FnMut(SnapshotItem) -> bool> DeserializeSeed<'de> for StreamedSnapshot<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de, F: FnMut(SnapshotItem) -> bool> Visitor<'de> for StreamedSnapshot<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a snapshot")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut cursor, mut ops) = (false, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "cursor" if !cursor => {
                    cursor = true;
                    if !(self.send)(SnapshotItem::Cursor(map.next_value()?)) {
                        return Err(A::Error::custom("snapshot read stopped"));
                    }
                }
                "ops" if !ops => {
                    ops = true;
                    map.next_value_seed(StreamedOps { send: &mut *self.send })?;
                }
                "cursor" | "ops" => return Err(A::Error::duplicate_field(if cursor { "cursor" } else { "ops" })),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (cursor, ops) {
            (false, _) => Err(A::Error::missing_field("cursor")),
            (_, false) => Err(A::Error::missing_field("ops")),
            _ => Ok(()),
        }
    }
}

/// The `ops` array: each element read as text, then parsed on its own.
struct StreamedOps<'s, F> {
    send: &'s mut F,
}

impl<'de, F: FnMut(SnapshotItem) -> bool> DeserializeSeed<'de> for StreamedOps<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(SnapshotItem) -> bool> Visitor<'de> for StreamedOps<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of ops")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(text) = seq.next_element::<Box<RawValue>>()? {
            let item = match serde_json::from_str::<Op>(text.get()) {
                Ok(op) => SnapshotItem::Op { op: Box::new(op), json: text.into() },
                Err(e) => SnapshotItem::Unreadable(UnreadableOp { json: text.get().to_owned(), error: e.to_string() }),
            };
            if !(self.send)(item) {
                return Err(A::Error::custom("snapshot read stopped"));
            }
        }
        Ok(())
    }
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

        // Streamed, the same ops in the same order, each with its text.
        let json = format!(r#"{{"ops":[{deep},{good},{{"op_id":1}}],"extra":[1,{{}}],"cursor":"7:9"}}"#);
        let mut items = Vec::new();
        read_snapshot_streamed(json.as_bytes(), &mut |i| {
            items.push(i);
            true
        })
        .unwrap();
        let whole = read_snapshot(json.as_bytes()).unwrap();
        let (mut ops, mut unreadable, mut cursor) = (Vec::new(), Vec::new(), None);
        for item in items {
            match item {
                SnapshotItem::Op { op, json } => {
                    assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), *op);
                    ops.push(*op);
                }
                SnapshotItem::Unreadable(u) => unreadable.push(u),
                SnapshotItem::Cursor(c) => cursor = Some(c),
            }
        }
        assert_eq!((ops, unreadable, cursor), (whole.ops, whole.unreadable, Some(whole.cursor)));
        // Stopped by the receiver, cut short, or not a snapshot: an error.
        assert!(read_snapshot_streamed(json.as_bytes(), &mut |_| false).is_err());
        assert!(read_snapshot_streamed(&json.as_bytes()[..json.len() - 10], &mut |_| true).is_err());
        assert!(read_snapshot_streamed(&br#"{"ops":[]}"#[..], &mut |_| true).is_err());
        assert!(read_snapshot_streamed(&br#"{"cursor":"7:9"}"#[..], &mut |_| true).is_err());
    }
}
