//! Title rows: the bibliographic record, its sort key and its search index
//! entry. No other module writes `titles` or `title_search`.

use chrono::{DateTime, Utc};
use kanoon_domain::text;
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldClocks, Record, parse_clocks};
use crate::error::Result;
use crate::sql::{parse_uuid, run, timestamp};
use kanoon_domain::entities::TitleDetails as TitleInput;

/// A title as its ops carry it: the details staff type, and the title a
/// duplicate was merged into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TitleRecord {
    #[serde(flatten)]
    pub details: TitleInput,
    #[serde(default)]
    pub merged_into: Option<Uuid>,
}

impl Record for TitleRecord {
    const ENTITY: &'static str = EntityKind::TITLE;
    const FIELDS: &'static [&'static str] = &[
        "title",
        "author",
        "translator",
        "illustrator",
        "publisher",
        "year",
        "isbn",
        "age_group",
        "subjects",
        "merged_into",
    ];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached(
                "SELECT title, author, translator, illustrator, publisher, year, isbn, age_group, subjects,
                        merged_into, field_clocks
                 FROM titles WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                let details = TitleInput {
                    title: r.get(0)?,
                    author: r.get(1)?,
                    translator: r.get(2)?,
                    illustrator: r.get(3)?,
                    publisher: r.get(4)?,
                    year: r.get(5)?,
                    isbn: r.get(6)?,
                    age_group: r.get(7)?,
                    subjects: r.get(8)?,
                };
                Ok((details, r.get::<_, Option<String>>(9)?, r.get::<_, String>(10)?))
            })
            .optional()?;
        row.map(|(details, merged_into, clocks)| {
            let merged_into = merged_into.as_deref().map(parse_uuid).transpose()?;
            Ok((TitleRecord { details, merged_into }, parse_clocks(&clocks)?))
        })
        .transpose()
    }

    fn store(conn: &Connection, id: Uuid, t: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        let d = &t.details;
        run(
            conn,
            "INSERT INTO titles (id, title, author, translator, illustrator, publisher, year, isbn, age_group, subjects,
                 merged_into, sort_key, field_clocks, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, author = excluded.author,
                 translator = excluded.translator, illustrator = excluded.illustrator,
                 publisher = excluded.publisher, year = excluded.year, isbn = excluded.isbn,
                 age_group = excluded.age_group, subjects = excluded.subjects, merged_into = excluded.merged_into,
                 sort_key = excluded.sort_key, field_clocks = excluded.field_clocks",
            params![
                id.to_string(),
                d.title,
                d.author,
                d.translator,
                d.illustrator,
                d.publisher,
                d.year,
                d.isbn,
                d.age_group,
                d.subjects,
                t.merged_into.map(|u| u.to_string()),
                text::collation_key(&d.title),
                serde_json::to_string(clocks)?,
                timestamp(now),
            ],
        )?;
        let seq: i64 =
            conn.prepare_cached("SELECT seq FROM titles WHERE id = ?1")?.query_row([id.to_string()], |r| r.get(0))?;
        run(conn, "DELETE FROM title_search WHERE rowid = ?1", [seq])?;
        run(conn, "INSERT INTO title_search (rowid, text) VALUES (?1, ?2)", params![seq, search_text(d)])?;
        Ok(())
    }
}

/// What the title search index holds: every name on the book, the
/// subjects and the ISBN.
fn search_text(t: &TitleInput) -> String {
    let mut s = text::index_text(&format!(
        "{} {} {} {} {} {}",
        t.title, t.author, t.translator, t.illustrator, t.publisher, t.subjects
    ));
    if !t.isbn.is_empty() {
        s.push(' ');
        s.push_str(&t.isbn.to_lowercase());
    }
    s
}
