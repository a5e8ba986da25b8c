//! Attendance: cards scanned one after another or a list ticked, late
//! entry for a past session, voids; a member's activities and an
//! instructor's month.

use std::collections::BTreeMap;

use kanoon_domain::activities::{AttendeeWarning, check_attendee};
use kanoon_domain::entities::Permission;
use kanoon_domain::jalali::{self, JalaliDate};
use kanoon_protocol::EntityKind;
use rusqlite::OptionalExtension;
use rusqlite::params;
use uuid::Uuid;

use super::program::{SESSION_MISSING, required_text};
use super::*;
use crate::desk::Desk;
use crate::rows::activity::{self as rows, AttendanceVoid, Attended, session_columns, session_from_row};
use crate::rows::load_existing;
use crate::sql::parse_uuid;

impl Desk {
    /// Records the card scanned (or typed) into a session: a member of the
    /// center by member number or old card number, else a visitor by the
    /// card's digits. Warns — not a member, another age group, already in —
    /// and never refuses a child; a card already in records nothing new.
    /// A session of an earlier day is entered late (under the signed-in
    /// staff member); a cancelled one or one still to come is refused.
    pub fn record_attendance(&mut self, session_id: Uuid, card: &str) -> Result<AttendanceScan> {
        self.require(Permission::PlanActivities)?;
        let digits: String = text::to_ascii_digits(card).chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(StoreError::InvalidInput("شماره کارت عضویت را اسکن یا وارد کنید (فقط رقم).".into()));
        }
        let attendee = match self.member_by_number(&digits) {
            Ok(m) => Some(Attendee {
                member_id: m.id,
                member_number: m.member_number,
                full_name: m.full_name,
                age_group: m.age_group,
            }),
            Err(StoreError::NotFound(_) | StoreError::Invalid(_) | StoreError::InvalidInput(_)) => None,
            Err(e) => return Err(e),
        };
        let card = attendee.as_ref().map_or(digits, |a| a.member_number.clone());
        self.attend(session_id, card, attendee)
    }

    /// Ticks a member on the session's list.
    pub fn tick_attendance(&mut self, session_id: Uuid, member_id: Uuid) -> Result<AttendanceScan> {
        self.require(Permission::PlanActivities)?;
        let m = self.member(member_id)?;
        let attendee = Attendee {
            member_id: m.id,
            member_number: m.member_number,
            full_name: m.full_name,
            age_group: m.age_group,
        };
        self.attend(session_id, attendee.member_number.clone(), Some(attendee))
    }

    fn attend(&mut self, session_id: Uuid, card: String, attendee: Option<Attendee>) -> Result<AttendanceScan> {
        let (record, _) = load_existing::<SessionRecord>(&self.conn, session_id, SESSION_MISSING)?;
        let Some((held_on, _)) = record.to_domain(session_id).held_at() else {
            return Err(StoreError::Conflict("این جلسه لغو شده است؛ حضور در آن ثبت نمی‌شود.".into()));
        };
        let today = self.today();
        if held_on > today {
            return Err(StoreError::Conflict(format!(
                "این جلسه هنوز برگزار نشده است ({}); حضور را در روز جلسه ثبت کنید.",
                jalali(held_on).to_persian_string()
            )));
        }
        let already = rows::card_in_session(&self.conn, session_id, &card)?;
        let warnings = check_attendee(
            &record.to_domain(session_id),
            // A member whose age group is not known is not warned about it.
            attendee.as_ref().map(|a| a.age_group.as_deref().unwrap_or(record.age_group.as_str())),
            already,
        );
        let attendance_id = if already {
            None
        } else {
            let id = Uuid::now_v7();
            let attended = Attended {
                session_id,
                card: card.clone(),
                member_id: attendee.as_ref().map(|a| a.member_id),
                late: held_on < today,
                staff_name: self.signed_in().map(|s| s.full_name.clone()),
            };
            self.write(|w| {
                let stamp =
                    w.service_event(EntityKind::ATTENDANCE, id, rows::ATTENDED, serde_json::to_value(&attended)?)?;
                rows::insert_attended(&w.tx, id, &attended, &stamp)
            })?;
            Some(id)
        };
        Ok(AttendanceScan {
            attendance_id,
            card,
            attendee,
            warnings: warnings.into_iter().map(warning_view).collect(),
            count: rows::count_in_session(&self.conn, session_id)?,
        })
    }

    /// Takes back an attendance recorded by mistake, with the reason (an
    /// event of its own; both stay in the log).
    pub fn void_attendance(&mut self, attendance_id: Uuid, reason: &str) -> Result<()> {
        self.require(Permission::PlanActivities)?;
        let reason = required_text(reason, "دلیل حذف حضور")?;
        let voided: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT void_id FROM attendance WHERE id = ?1")?
            .query_row([attendance_id.to_string()], |r| r.get(0))
            .optional()?;
        match voided {
            None => return Err(StoreError::NotFound("این حضور پیدا نشد.".into())),
            Some(Some(_)) => return Err(StoreError::Conflict("این حضور پیش‌تر حذف شده است.".into())),
            Some(None) => {}
        }
        let void = AttendanceVoid { target: attendance_id, reason };
        self.write(|w| {
            let id = Uuid::now_v7();
            w.service_event(EntityKind::ATTENDANCE, id, rows::VOID, serde_json::to_value(&void)?)?;
            rows::insert_void(&w.tx, id, &void)
        })
    }

    /// A session's attendance, in the order recorded (voids left out; a
    /// card scanned twice at two desks shows twice, counts once).
    pub fn session_attendance(&self, session_id: Uuid) -> Result<Vec<AttendanceRow>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.card, a.member_id, m.member_number, m.first_name || ' ' || m.last_name, a.at, a.late,
                    a.staff_name
             FROM attendance a LEFT JOIN members m ON m.id = a.member_id
             WHERE a.session_id = ?1 AND a.void_id IS NULL ORDER BY a.at, a.id",
        )?;
        let rows = stmt.query_map([session_id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, card, member_id, number, name, at, late, staff_name) = row?;
            let attendee = match (member_id, number, name) {
                (Some(id), Some(member_number), Some(full_name)) => {
                    Some(Attendee { member_id: parse_uuid(&id)?, member_number, full_name, age_group: None })
                }
                _ => None,
            };
            out.push(AttendanceRow {
                attendance_id: parse_uuid(&id)?,
                card,
                attendee,
                recorded_jalali: jalali::format_tehran_datetime(crate::sql::parse_time(&at)?),
                late,
                staff_name,
            });
        }
        Ok(out)
    }

    /// The sessions a member attended, latest first.
    pub fn member_activities(&self, member_id: Uuid) -> Result<Vec<MemberActivity>> {
        self.signed()?;
        let sql = format!(
            "SELECT DISTINCT s.id, {} FROM attendance a JOIN activity_sessions s ON s.id = a.session_id
             WHERE a.member_id = ?1 AND a.void_id IS NULL ORDER BY s.held_on DESC, s.held_at DESC",
            session_columns("s")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([member_id.to_string()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id = parse_uuid(&row.get::<_, String>(0)?)?;
            let r = session_from_row(row, 1)?;
            let held = r.to_domain(id).held_at().map_or(r.on, |(d, _)| d);
            out.push(MemberActivity {
                session_id: id,
                title: r.title.clone(),
                kind_name: self.kind_name(&r.kind)?,
                held_on_jalali: jalali(held).to_persian_string(),
                instructor_name: r.instructor_name.clone(),
            });
        }
        Ok(out)
    }

    /// An instructor's month: sessions held (and cancelled) in the Jalali
    /// month, attendance, totals by kind. Instructors see their own; a
    /// manager anyone's.
    pub fn instructor_month(&self, instructor_id: Uuid, year: i32, month: u8) -> Result<InstructorMonth> {
        let me = self.signed()?;
        if me.id != instructor_id {
            self.require(Permission::ManageStaff)?;
        }
        let first = JalaliDate::new(year, month, 1)?;
        let last = JalaliDate::new(year, month, JalaliDate::days_in_month(year, month))?;
        let (from, to) = (first.to_gregorian(), last.to_gregorian());
        let sql = format!(
            "SELECT s.id, {} FROM activity_sessions s
             WHERE s.center_id = ?1 AND s.instructor_id = ?2
               AND ((s.held_on BETWEEN ?3 AND ?4) OR (s.held_on IS NULL AND s.planned_on BETWEEN ?3 AND ?4))
             ORDER BY coalesce(s.held_on, s.planned_on), coalesce(s.held_at, s.planned_at), s.id",
            session_columns("s")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![
            self.center_id()?.to_string(),
            instructor_id.to_string(),
            from.to_string(),
            to.to_string()
        ])?;
        let (mut held, mut cancelled, mut attendance) = (0, 0, 0);
        let mut by_kind: BTreeMap<String, KindTotal> = BTreeMap::new();
        let mut sessions = Vec::new();
        while let Some(row) = rows.next()? {
            let id = parse_uuid(&row.get::<_, String>(0)?)?;
            let view = self.session_view(id, &session_from_row(row, 1)?)?;
            if view.state == SessionState::Cancelled {
                cancelled += 1;
                continue;
            }
            held += 1;
            attendance += view.attendance;
            let total = by_kind.entry(view.kind.clone()).or_insert_with(|| KindTotal {
                kind_name: view.kind_name.clone(),
                sessions: 0,
                attendance: 0,
            });
            total.sessions += 1;
            total.attendance += view.attendance;
            sessions.push(view);
        }
        Ok(InstructorMonth {
            instructor_id,
            instructor_name: self
                .staff_name(instructor_id)?
                .or(sessions.first().map(|s: &SessionView| s.instructor_name.clone()))
                .unwrap_or_default(),
            month_name: text::to_persian_digits(&format!("{} {}", first.month_name(), year)),
            held,
            cancelled,
            attendance,
            by_kind: by_kind.into_values().collect(),
            sessions,
        })
    }
}

fn warning_view(w: AttendeeWarning) -> AttendanceWarning {
    let code = match w {
        AttendeeWarning::NotAMember => "not_a_member",
        AttendeeWarning::OtherAgeGroup => "other_age_group",
        AttendeeWarning::AlreadyIn => "already_in",
    };
    AttendanceWarning { code: code.to_owned(), message: w.message().to_owned() }
}
