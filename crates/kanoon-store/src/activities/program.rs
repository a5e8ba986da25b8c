//! Kinds and the week's plan: plan, edit, move, cancel, copy a week, read
//! a week.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use kanoon_domain::activities::{self, SessionStatus, default_activity_kinds, week_start};
use kanoon_domain::entities::Permission;
use kanoon_domain::text;
use rusqlite::OptionalExtension;
use rusqlite::params;
use uuid::Uuid;

use super::*;
use crate::desk::Desk;
use crate::rows::activity::{self as rows, ActivityKindRecord, session_columns, session_from_row};
use crate::rows::{Record, load_existing};

/// Longest title, room or reason staff may type.
const MAX_TEXT: usize = 200;

impl Desk {
    /// The activity kinds a session may be: the province's list, then the
    /// center's own (retired ones too, marked, for old sessions' names).
    pub fn activity_kinds(&self) -> Result<Vec<ActivityKindView>> {
        self.signed()?;
        let center = self.center_id()?;
        let settings = &self.reference()?.settings;
        let mut kinds: Vec<ActivityKindView> = settings
            .base_activity_kinds()
            .into_iter()
            .map(|k| ActivityKindView { code: k.code, name: k.name, id: None, retired: false })
            .collect();
        // While the province keeps the list closed, the center's own kinds
        // stay for old sessions' names but are not offered.
        let open = settings.center_kinds_allowed;
        for (id, k) in rows::kinds_of(&self.conn, center)? {
            kinds.push(ActivityKindView { code: k.code, name: k.name, id: Some(id), retired: k.retired || !open });
        }
        Ok(kinds)
    }

    /// Adds the center's own activity kind (a manager's).
    pub fn add_activity_kind(&mut self, name: &str) -> Result<ActivityKindView> {
        self.require(Permission::EditActivityKinds)?;
        if !self.reference()?.settings.center_kinds_allowed {
            return Err(crate::settings::province::locked_message());
        }
        let name = required_text(name, "نام نوع فعالیت")?;
        if self
            .activity_kinds()?
            .iter()
            .any(|k| !k.retired && text::normalize_search(&k.name) == text::normalize_search(&name))
        {
            return Err(StoreError::Conflict(format!("نوع فعالیت «{name}» پیش‌تر در فهرست هست.")));
        }
        let id = Uuid::now_v7();
        let simple = id.simple().to_string();
        let code = format!("c-{}", &simple[simple.len() - 12..]);
        let record =
            ActivityKindRecord { center_id: self.center_id()?, code: code.clone(), name: name.clone(), retired: false };
        self.write(|w| w.save(id, &record, None).map(|_| ()))?;
        Ok(ActivityKindView { code, name, id: Some(id), retired: false })
    }

    /// Retires (or brings back) one of the center's own kinds: kept for the
    /// sessions that name it, no longer offered.
    pub fn set_activity_kind_retired(&mut self, id: Uuid, retired: bool) -> Result<()> {
        self.require(Permission::EditActivityKinds)?;
        self.write(|w| {
            let (old, clocks) = load_existing::<ActivityKindRecord>(&w.tx, id, "این نوع فعالیت پیدا نشد.")?;
            let new = ActivityKindRecord { retired, ..old.clone() };
            w.save(id, &new, Some((&old, &clocks))).map(|_| ())
        })
    }

    /// The center's active staff a session may be given to (staff who
    /// plan activities see them; the full staff list is a manager's).
    pub fn instructors(&self) -> Result<Vec<kanoon_domain::entities::Staff>> {
        self.require(Permission::PlanActivities)?;
        let mut staff = crate::rows::staff::of_center(&self.conn, self.center_id()?)?;
        staff.retain(|s| s.active);
        Ok(staff)
    }

    /// Plans a session.
    pub fn plan_session(&mut self, input: SessionInput) -> Result<SessionView> {
        self.require(Permission::PlanActivities)?;
        let record = self.checked_session(&input, SessionStatus::Planned)?;
        let id = Uuid::now_v7();
        self.write(|w| w.save(id, &record, None).map(|_| ()))?;
        self.session(id)
    }

    /// Changes a session's details (not its status: `move_session`,
    /// `cancel_session`).
    pub fn edit_session(&mut self, id: Uuid, input: SessionInput) -> Result<SessionView> {
        self.require(Permission::PlanActivities)?;
        let (old, clocks) = load_existing::<SessionRecord>(&self.conn, id, SESSION_MISSING)?;
        let record = self.checked_session(&input, old.status.clone())?;
        self.write(|w| w.save(id, &record, Some((&old, &clocks))).map(|_| ()))?;
        self.session(id)
    }

    /// Moves a session to another day and time, with the reason.
    pub fn move_session(&mut self, id: Uuid, on: NaiveDate, at: &str, reason: &str) -> Result<SessionView> {
        self.require(Permission::PlanActivities)?;
        let at = parse_clock(at)?;
        let reason = required_text(reason, "دلیل جابه‌جایی")?;
        self.change_status(id, SessionStatus::Moved { on, at, reason })
    }

    /// Cancels a session, with the reason. Its attendance stays recorded.
    pub fn cancel_session(&mut self, id: Uuid, reason: &str) -> Result<SessionView> {
        self.require(Permission::PlanActivities)?;
        let reason = required_text(reason, "دلیل لغو")?;
        self.change_status(id, SessionStatus::Cancelled { reason })
    }

    /// Plans again, a week on from `from`'s week into `to`'s, every session
    /// of `from`'s week (each its own new record). Refused when `to`'s week
    /// already has sessions, so a second click copies nothing twice.
    pub fn copy_week(&mut self, from: NaiveDate, to: NaiveDate) -> Result<WeekProgram> {
        self.require(Permission::PlanActivities)?;
        let (from, to) = (week_start(from), week_start(to));
        if from == to {
            return Err(StoreError::InvalidInput("هفتهٔ مبدأ و مقصد یکی است.".into()));
        }
        if !self.week_records(to)?.is_empty() {
            return Err(StoreError::Conflict(
                "هفتهٔ مقصد برنامه دارد؛ جلسه‌های تازه را یکی‌یکی اضافه کنید یا هفتهٔ دیگری را انتخاب کنید.".into(),
            ));
        }
        let source = self.week_records(from)?;
        if source.is_empty() {
            return Err(StoreError::NotFound("هفتهٔ مبدأ جلسه‌ای ندارد.".into()));
        }
        let sessions: Vec<_> = source.iter().map(|(id, r)| r.to_domain(*id)).collect();
        let copied = activities::copy_week(&sessions, from, to, Uuid::now_v7);
        let by_id: HashMap<Uuid, &SessionRecord> = source.iter().map(|(id, r)| (*id, r)).collect();
        self.write(|w| {
            for (new, old) in copied.iter().zip(&sessions) {
                let Some(template) = by_id.get(&old.id) else { continue };
                let record = SessionRecord { on: new.on, status: SessionStatus::Planned, ..(*template).clone() };
                w.save(new.id, &record, None)?;
            }
            Ok(())
        })?;
        self.week_program(to)
    }

    /// The week (Saturday to Friday) that holds `day`.
    pub fn week_program(&self, day: NaiveDate) -> Result<WeekProgram> {
        self.signed()?;
        let start = week_start(day);
        let mut sessions = Vec::new();
        for (id, record) in self.week_records(start)? {
            sessions.push(self.session_view(id, &record)?);
        }
        sessions.sort_by(|a, b| {
            let key = |s: &SessionView| (s.held_on.unwrap_or(s.on), s.held_at.clone().unwrap_or_else(|| s.at.clone()));
            key(a).cmp(&key(b)).then(a.id.cmp(&b.id))
        });
        let end = start + Duration::days(6);
        let title_jalali = format!("{} تا {}", jalali(start).to_long_persian(), jalali(end).to_long_persian());
        Ok(WeekProgram { week_start: start, title_jalali, sessions })
    }

    /// One session as the program shows it.
    pub fn session(&self, id: Uuid) -> Result<SessionView> {
        self.signed()?;
        let (record, _) = load_existing::<SessionRecord>(&self.conn, id, SESSION_MISSING)?;
        self.session_view(id, &record)
    }

    fn change_status(&mut self, id: Uuid, status: SessionStatus) -> Result<SessionView> {
        self.write(|w| {
            let (old, clocks) = load_existing::<SessionRecord>(&w.tx, id, SESSION_MISSING)?;
            let new = SessionRecord { status, ..old.clone() };
            w.save(id, &new, Some((&old, &clocks))).map(|_| ())
        })?;
        self.session(id)
    }

    /// Sessions planned in the week starting `start`, by their planned day.
    pub(super) fn week_records(&self, start: NaiveDate) -> Result<Vec<(Uuid, SessionRecord)>> {
        let sql = format!(
            "SELECT s.id, {} FROM activity_sessions s
             WHERE s.center_id = ?1 AND s.planned_on BETWEEN ?2 AND ?3 ORDER BY s.planned_on, s.planned_at, s.id",
            session_columns("s")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let end = start + Duration::days(6);
        let mut rows = stmt.query(params![self.center_id()?.to_string(), start.to_string(), end.to_string()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            out.push((crate::sql::parse_uuid(&id)?, session_from_row(row, 1)?));
        }
        Ok(out)
    }

    pub(super) fn session_view(&self, id: Uuid, r: &SessionRecord) -> Result<SessionView> {
        let held = r.to_domain(id).held_at();
        let (state, reason) = state_of(r);
        Ok(SessionView {
            id,
            kind: r.kind.clone(),
            kind_name: self.kind_name(&r.kind)?,
            title: r.title.clone(),
            age_group: r.age_group.clone(),
            on: r.on,
            at: clock_text(r.at),
            held_on: held.map(|(d, _)| d),
            held_on_jalali: held.map(|(d, _)| jalali(d).to_persian_string()),
            held_weekday: held.map(|(d, _)| jalali(d).weekday_name().to_owned()),
            held_at: held.map(|(_, t)| clock_text(t)),
            minutes: r.minutes,
            room: r.room.clone(),
            instructor_id: r.instructor_id,
            instructor_name: r.instructor_name.clone(),
            capacity: r.capacity,
            state,
            reason,
            attendance: rows::count_in_session(&self.conn, id)?,
        })
    }

    pub(super) fn kind_name(&self, code: &str) -> Result<String> {
        // The province's list, then the shipped one (an old session may name
        // a kind the province's list no longer has).
        let mut listed = self.reference()?.settings.base_activity_kinds().into_iter().chain(default_activity_kinds());
        if let Some(k) = listed.find(|k| k.code == code) {
            return Ok(k.name);
        }
        let name: Option<String> = self
            .conn
            .prepare_cached("SELECT name FROM activity_kinds WHERE code = ?1")?
            .query_row([code], |r| r.get(0))
            .optional()?;
        Ok(name.unwrap_or_else(|| code.to_owned()))
    }

    /// A staff member's name when this desk has their account.
    pub(super) fn staff_name(&self, id: Uuid) -> Result<Option<String>> {
        Ok(crate::rows::staff::StaffRecord::load(&self.conn, id)?.map(|(s, _)| s.full_name))
    }

    /// A session's record from what was typed, every field checked.
    fn checked_session(&self, input: &SessionInput, status: SessionStatus) -> Result<SessionRecord> {
        let center = self.center_id()?;
        if !self.activity_kinds()?.iter().any(|k| k.code == input.kind) {
            return Err(StoreError::InvalidInput("نوع فعالیت را از فهرست انتخاب کنید.".into()));
        }
        if !self.reference()?.age_groups.iter().any(|g| g.code == input.age_group) {
            return Err(StoreError::InvalidInput("گروه سنی را از فهرست انتخاب کنید.".into()));
        }
        let instructor = crate::rows::staff::StaffRecord::load(&self.conn, input.instructor_id)?
            .map(|(s, _)| s)
            .filter(|s| s.active && s.center_id == center)
            .ok_or_else(|| StoreError::InvalidInput("مربی را از کارکنان فعال مرکز انتخاب کنید.".into()))?;
        if !(15..=480).contains(&input.minutes) {
            return Err(StoreError::InvalidInput("مدت جلسه باید میان ۱۵ تا ۴۸۰ دقیقه باشد.".into()));
        }
        if !(1..=500).contains(&input.capacity) {
            return Err(StoreError::InvalidInput("ظرفیت باید میان ۱ تا ۵۰۰ نفر باشد.".into()));
        }
        Ok(SessionRecord {
            center_id: center,
            kind: input.kind.clone(),
            title: required_text(&input.title, "عنوان جلسه")?,
            age_group: input.age_group.clone(),
            on: input.on,
            at: parse_clock(&input.at)?,
            minutes: input.minutes,
            room: optional_text(&input.room)?,
            instructor_id: input.instructor_id,
            instructor_name: instructor.full_name,
            capacity: input.capacity,
            status,
        })
    }
}

pub(super) const SESSION_MISSING: &str = "این جلسه پیدا نشد؛ برنامهٔ هفته را دوباره باز کنید.";

/// Cleaned text that must not be empty (`what` names it in the message).
pub(super) fn required_text(input: &str, what: &str) -> Result<String> {
    let cleaned = optional_text(input)?;
    if cleaned.is_empty() {
        return Err(StoreError::InvalidInput(format!("{what} را بنویسید.")));
    }
    Ok(cleaned)
}

pub(super) fn optional_text(input: &str) -> Result<String> {
    let cleaned = text::clean_text(input);
    if cleaned.chars().count() > MAX_TEXT {
        return Err(StoreError::InvalidInput(format!(
            "متن بیش از {} نویسه است؛ کوتاه‌ترش کنید.",
            text::to_persian_digits(&MAX_TEXT.to_string())
        )));
    }
    Ok(cleaned)
}
