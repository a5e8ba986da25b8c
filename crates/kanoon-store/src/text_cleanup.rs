//! One spelling for stored text: names, titles, authors and addresses are
//! cleaned on save (`text::clean_text`); rows saved before that rule — typed
//! with an Arabic keyboard layout, «كيميا كريمي» — are cleaned once per desk
//! here. Only rows this center owns are touched (its members, the titles it
//! created), only fields whose value changes are written, and each change
//! is an ordinary patch through the outbox, so other desks follow. Two desks
//! of one center that clean the same row write the same value: a patch of
//! equal values is no concurrent edit, so no exception.

use kanoon_domain::text::clean_text;
use rusqlite::OptionalExtension;
use uuid::Uuid;

use crate::desk::{Desk, Write};
use crate::error::Result;
use crate::rows::{self, member::MemberRecord, title::TitleRecord};
use crate::sql::parse_uuid;

/// `meta` key set once this desk has cleaned its center's rows.
const DONE: &str = "text_cleaned_v1";

/// What one cleanup changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub members: usize,
    pub titles: usize,
}

impl Desk {
    /// Cleans the text of this center's members and titles once (a no-op
    /// on later calls and on a desk not set up). Called when the app opens.
    pub fn clean_stored_text(&mut self) -> Result<Cleaned> {
        let Some(identity) = self.identity().cloned() else { return Ok(Cleaned::default()) };
        let done: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [DONE], |r| r.get(0)).optional()?;
        if done.is_some() {
            return Ok(Cleaned::default());
        }
        let center = identity.center.id.to_string();
        self.write_as(None, |w| {
            let mut cleaned = Cleaned::default();
            for id in ids(w, "SELECT id FROM members WHERE center_id = ?1", &center)? {
                cleaned.members += usize::from(clean_member(w, id)?);
            }
            // Titles are province-wide: only those this center created (its
            // own ops, or ops of its other desks it pulled).
            let created = "SELECT id FROM titles WHERE id IN (SELECT entity_id FROM outbox WHERE entity = 'title')
                 OR id IN (SELECT entity_id FROM inbox WHERE entity = 'title'
                           AND json_extract(op, '$.center_id') = ?1)";
            for id in ids(w, created, &center)? {
                cleaned.titles += usize::from(clean_title(w, id)?);
            }
            w.tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", [DONE, &w.now.to_rfc3339()])?;
            Ok(cleaned)
        })
    }
}

fn ids(w: &Write<'_>, sql: &str, center: &str) -> Result<Vec<Uuid>> {
    let mut stmt = w.tx.prepare(sql)?;
    let raw: Vec<String> = stmt.query_map([center], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    raw.iter().map(|s| parse_uuid(s)).collect()
}

/// Cleans one member's text fields; true if anything changed.
fn clean_member(w: &mut Write<'_>, id: Uuid) -> Result<bool> {
    let Some((old, clocks)) = <MemberRecord as rows::Record>::load(&w.tx, id)? else { return Ok(false) };
    let mut new = old.clone();
    for f in [&mut new.first_name, &mut new.last_name, &mut new.father_name, &mut new.address] {
        *f = clean_text(f);
    }
    new.village = new.village.as_deref().map(clean_text).filter(|v| !v.is_empty());
    if let Some(a) = &mut new.alternative_id {
        a.kind = clean_text(&a.kind);
    }
    Ok(!w.save(id, &new, Some((&old, &clocks)))?.is_empty())
}

/// Cleans one title's text fields; true if anything changed.
fn clean_title(w: &mut Write<'_>, id: Uuid) -> Result<bool> {
    let Some((old, clocks)) = <TitleRecord as rows::Record>::load(&w.tx, id)? else { return Ok(false) };
    let mut new = old.clone();
    let d = &mut new.details;
    for f in [&mut d.title, &mut d.author, &mut d.translator, &mut d.illustrator, &mut d.publisher, &mut d.subjects] {
        *f = clean_text(f);
    }
    Ok(!w.save(id, &new, Some((&old, &clocks)))?.is_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::members::{FeeInput, MemberDetails, RegisterMember};
    use kanoon_domain::entities::Gender;

    fn desk() -> Desk {
        let mut desk = Desk::open_in_memory().unwrap();
        desk.setup(crate::demo::demo_center("manager"), "kanoon1404").unwrap();
        desk
    }

    fn registered(out: crate::members::RegisterOutcome) -> crate::members::MemberView {
        match out {
            crate::members::RegisterOutcome::Registered { member } => *member,
            other => panic!("not registered: {other:?}"),
        }
    }

    fn fee() -> FeeInput {
        FeeInput::Paid { amount_rials: 350_000, receipt_number: "۴۵۶۷".into() }
    }

    /// A member saved before the cleaning rule, as an old desk stored it.
    fn old_style_member(desk: &mut Desk) -> Uuid {
        let details = MemberDetails {
            national_id: Some("0013542419".into()),
            ..MemberDetails::named("سارا", "احمدی", Gender::Female)
        };
        let id = registered(desk.register_member(RegisterMember::new(details, fee())).unwrap()).id;
        desk.conn
            .execute(
                "UPDATE members SET first_name = 'كيميا', last_name = 'كريمي', address = 'خيابان  ملك' WHERE id = ?1",
                [id.to_string()],
            )
            .unwrap();
        id
    }

    #[test]
    fn old_rows_are_cleaned_once_through_the_outbox() {
        let mut desk = desk();
        let id = old_style_member(&mut desk);
        desk.conn.execute("DELETE FROM meta WHERE key = ?1", [DONE]).unwrap();
        let ops_before: i64 = desk.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap();

        let cleaned = desk.clean_stored_text().unwrap();
        assert_eq!(cleaned.members, 1);
        let m = desk.member(id).unwrap();
        assert_eq!(m.full_name, "کیمیا کریمی");
        assert_eq!(m.details.address, "خیابان ملک");
        assert_eq!(desk.find_members("کیمیا", 5).unwrap().len(), 1);
        let ops_after: i64 = desk.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap();
        assert_eq!(ops_after, ops_before + 1, "one patch for the one member that changed");

        // Once: a second call writes nothing.
        assert_eq!(desk.clean_stored_text().unwrap(), Cleaned::default());
        let ops_again: i64 = desk.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap();
        assert_eq!(ops_again, ops_after);
    }

    #[test]
    fn text_is_cleaned_when_saved() {
        let mut desk = desk();
        let details = MemberDetails {
            national_id: Some("0013542419".into()),
            father_name: "علي".into(),
            ..MemberDetails::named(" كيميا ", "كريمي", Gender::Female)
        };
        let m = registered(desk.register_member(RegisterMember::new(details, fee())).unwrap());
        assert_eq!(m.full_name, "کیمیا کریمی");
        assert_eq!(m.details.father_name, "علی");
    }
}
