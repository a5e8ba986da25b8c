//! What an op may be, whoever reads it: the server refuses an op outside
//! these bounds at push (`op_out_of_bounds`, `op_too_large`), so one desk
//! cannot hand every other desk an op it cannot read or store.

use serde_json::Value;

use crate::Op;

/// Deepest nesting of arrays and objects in one op's JSON (the envelope
/// counts: an event's data sits at depth 3). Far below the JSON readers'
/// own limits (serde_json: 128), so a page of ops always parses.
pub const MAX_OP_DEPTH: usize = 32;

/// Largest op, as JSON text.
pub const MAX_OP_BYTES: usize = 64 * 1024;

/// Longest string value (or object key) inside an op, in characters.
pub const MAX_STRING_CHARS: usize = 8 * 1024;

/// Longest entity name: `[a-z][a-z0-9_]*`, at most this many characters.
pub const MAX_ENTITY_CHARS: usize = 40;

/// Why an op is outside the bounds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutOfBounds {
    #[error("op of {0} bytes; at most {MAX_OP_BYTES}")]
    TooLarge(usize),
    #[error("op nested {0} levels deep; at most {MAX_OP_DEPTH}")]
    TooDeep(usize),
    #[error("entity name «{0}» is not [a-z][a-z0-9_]* of at most {MAX_ENTITY_CHARS} characters")]
    BadEntity(String),
    #[error("a string of {0} characters; at most {MAX_STRING_CHARS}")]
    LongString(usize),
}

impl OutOfBounds {
    /// Whether the op is refused for its size (413) rather than its shape (422).
    pub fn is_size(&self) -> bool {
        matches!(self, OutOfBounds::TooLarge(_))
    }
}

/// The deepest nesting of arrays and objects in a JSON text, counted
/// without parsing (so a text too deep for a parser is measured too).
pub fn json_depth(json: &str) -> usize {
    scan(json).deepest
}

/// What one pass over a JSON text finds without parsing it.
struct Scanned {
    deepest: usize,
    /// The most characters between the quotes of one string (escapes
    /// counted as written: never fewer than the string has).
    longest_raw_string: usize,
}

fn scan(json: &str) -> Scanned {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    let (mut chars, mut longest) = (0usize, 0usize);
    for b in json.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => {
                    in_string = false;
                    longest = longest.max(chars);
                    continue;
                }
                _ => {}
            }
            // A character starts at every byte but UTF-8's continuations.
            if b & 0xC0 != 0x80 {
                chars += 1;
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                chars = 0;
            }
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Scanned { deepest, longest_raw_string: longest }
}

/// Whether `name` is an entity name a desk can write: `[a-z][a-z0-9_]*`,
/// at most `MAX_ENTITY_CHARS`.
pub fn is_entity_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_ENTITY_CHARS
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks an op and its JSON text (as received) against the bounds.
pub fn check_op(op: &Op, json: &str) -> Result<(), OutOfBounds> {
    if !is_entity_name(op.entity.as_str()) {
        let shown: String = op.entity.as_str().chars().take(MAX_ENTITY_CHARS).collect();
        return Err(OutOfBounds::BadEntity(shown.escape_debug().to_string()));
    }
    if json.len() > MAX_OP_BYTES {
        return Err(OutOfBounds::TooLarge(json.len()));
    }
    let scanned = scan(json);
    if scanned.deepest > MAX_OP_DEPTH {
        return Err(OutOfBounds::TooDeep(scanned.deepest));
    }
    // Escapes only shorten a string: with none over the bound as written,
    // none is over it read (the common case, without building a value).
    if scanned.longest_raw_string <= MAX_STRING_CHARS {
        return Ok(());
    }
    let body = serde_json::to_value(&op.body).unwrap_or(Value::Null);
    let extra = op.extra.values();
    match std::iter::once(&body).chain(extra).find_map(longest_string_over) {
        Some(chars) => Err(OutOfBounds::LongString(chars)),
        None => Ok(()),
    }
}

/// The length of the first string (value or key) over `MAX_STRING_CHARS` in `value`.
fn longest_string_over(value: &Value) -> Option<usize> {
    let over = |s: &str| Some(s.chars().count()).filter(|&n| n > MAX_STRING_CHARS);
    match value {
        Value::String(s) => over(s),
        Value::Array(items) => items.iter().find_map(longest_string_over),
        Value::Object(map) => map.iter().find_map(|(k, v)| over(k).or_else(|| longest_string_over(v))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert_eq!(json_depth("{}"), 1);
        assert_eq!(json_depth(r#"{"a":[{"b":"[[[{{"}]}"#), 3);
        assert_eq!(json_depth(r#"{"a":"\"[[["}"#), 1);
        assert_eq!(json_depth(&format!("{}{}", "[".repeat(125), "]".repeat(125))), 125);
    }

    /// An op whose patch sets `notes` to `value`, as JSON text written by
    /// serde_json (which escapes control characters) and parsed back.
    fn op_with_notes(value: &str) -> (Op, String) {
        let json = serde_json::json!({
            "op_id": "01934f3c-0000-7000-8000-000000000001",
            "schema_version": 9,
            "hlc": {"wall_ms": 5, "counter": 1},
            "device_id": "01934f3c-0000-7000-8000-000000000002",
            "center_id": "01934f3c-0000-7000-8000-000000000003",
            "entity": "member",
            "entity_id": "01934f3c-0000-7000-8000-000000000004",
            "staff_id": null,
            "body": {"type": "patch", "fields": {"notes": {"value": value, "base": null}}}
        })
        .to_string();
        let op: Op = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        (op, json)
    }

    #[test]
    fn long_strings_are_counted_in_characters_as_read() {
        let at_bound = "ب".repeat(MAX_STRING_CHARS);
        let (op, json) = op_with_notes(&at_bound);
        assert_eq!(check_op(&op, &json), Ok(()));
        let (op, json) = op_with_notes(&format!("{at_bound}ب"));
        assert_eq!(check_op(&op, &json), Err(OutOfBounds::LongString(MAX_STRING_CHARS + 1)));
        // Escaped characters take six as written, one as read: within the bound.
        let escaped = "\u{1}".repeat(MAX_STRING_CHARS);
        let (op, json) = op_with_notes(&escaped);
        assert!(json.len() > 6 * MAX_STRING_CHARS, "serde_json escapes control characters");
        assert_eq!(check_op(&op, &json), Ok(()));
        let (op, json) = op_with_notes(&format!("{escaped}\u{1}"));
        assert_eq!(check_op(&op, &json), Err(OutOfBounds::LongString(MAX_STRING_CHARS + 1)));
    }

    #[test]
    fn entity_names_follow_the_pattern() {
        for good in ["title", "sync_exception", "future_thing2"] {
            assert!(is_entity_name(good), "{good}");
        }
        for bad in ["", "Title", "9lives", "a-b", "circulation\0", "x".repeat(41).as_str(), "عضو"] {
            assert!(!is_entity_name(bad), "{bad}");
        }
    }
}
