//! Attendance per session (a sheet the instructor ticks; the latest mark of
//! a session wins on every desk) and the certificate of completion.

use std::collections::HashSet;

use kanoon_domain::entities::Permission;
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::text;
use kanoon_domain::workshops::{self, Standing};
use kanoon_protocol::EntityKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{MISSING, WorkshopSessionView};
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::load_existing;
use crate::rows::workshop::{self as rows, SessionMark, WorkshopRecord};

/// One enrolled participant's row of the attendance sheet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SheetRow {
    pub participant_id: Uuid,
    pub full_name: String,
    /// Session numbers marked present.
    pub present: Vec<u16>,
    pub attended: u32,
    pub completed: bool,
}

/// A workshop's attendance sheet: enrolled participants by sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttendanceSheet {
    pub workshop_id: Uuid,
    pub title: String,
    pub sessions: Vec<WorkshopSessionView>,
    pub rows: Vec<SheetRow>,
    pub completion_percent: u8,
}

/// What a certificate of completion prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Certificate {
    pub center_name: String,
    pub participant_name: String,
    pub workshop_title: String,
    pub term: String,
    pub instructor_name: String,
    pub first_on_jalali: String,
    pub last_on_jalali: String,
    pub sessions_held: u16,
    pub attended: u32,
    /// Hours of the sessions attended.
    pub hours: String,
    pub issued_jalali: String,
}

impl Desk {
    /// Marks a participant present at (or absent from) a session held.
    pub fn mark_workshop_attendance(
        &mut self,
        workshop_id: Uuid,
        session: u16,
        participant_id: Uuid,
        present: bool,
    ) -> Result<AttendanceSheet> {
        let staff = self.require(Permission::EnrolWorkshops)?.clone();
        let (w, _) = load_existing::<WorkshopRecord>(&self.conn, workshop_id, MISSING)?;
        let day = session
            .checked_sub(1)
            .and_then(|i| w.sessions.get(usize::from(i)))
            .ok_or_else(|| StoreError::NotFound("این جلسه در برنامهٔ کارگاه نیست.".into()))?;
        if *day > self.today() {
            return Err(StoreError::InvalidInput("حضور جلسه‌ای را که هنوز برگزار نشده نمی‌توان ثبت کرد.".into()));
        }
        let (roster, _) = rows::roster_of(&self.conn, workshop_id)?;
        if roster.standing(participant_id) != Some(Standing::Enrolled) {
            return Err(StoreError::InvalidInput("فقط حضور ثبت‌نام‌شده‌های کارگاه ثبت می‌شود.".into()));
        }
        let mark = SessionMark {
            workshop_id,
            participant: participant_id,
            session,
            present,
            staff_name: Some(staff.full_name.clone()),
        };
        self.write(|w| {
            let id = Uuid::now_v7();
            let stamp = w.service_event(EntityKind::ENROLMENT, id, rows::ATTENDED, serde_json::to_value(&mark)?)?;
            rows::insert_mark(&w.tx, id, &mark, &stamp)
        })?;
        self.workshop_attendance(workshop_id)
    }

    /// The attendance sheet of a workshop's enrolled participants.
    pub fn workshop_attendance(&self, workshop_id: Uuid) -> Result<AttendanceSheet> {
        let detail = self.workshop(workshop_id)?;
        let presence = rows::presence_of(&self.conn, workshop_id)?;
        let held: HashSet<u16> = detail.sessions.iter().filter(|s| s.held).map(|s| s.no).collect();
        let rows = detail
            .roster
            .iter()
            .filter(|l| l.standing == Standing::Enrolled)
            .map(|l| {
                let mut present: Vec<u16> = presence
                    .iter()
                    .filter(|(p, n)| *p == l.participant_id && held.contains(n))
                    .map(|(_, n)| *n)
                    .collect();
                present.sort_unstable();
                SheetRow {
                    participant_id: l.participant_id,
                    full_name: l.full_name.clone(),
                    present,
                    attended: l.attended,
                    completed: l.completed,
                }
            })
            .collect();
        Ok(AttendanceSheet {
            workshop_id,
            title: detail.summary.title,
            sessions: detail.sessions,
            rows,
            completion_percent: detail.input.completion_percent,
        })
    }

    /// The certificate of a participant who completed a workshop (all its
    /// sessions held, attended at least its completion share).
    pub fn workshop_certificate(&self, workshop_id: Uuid, participant_id: Uuid) -> Result<Certificate> {
        let detail = self.workshop(workshop_id)?;
        let (w, _) = load_existing::<WorkshopRecord>(&self.conn, workshop_id, MISSING)?;
        let line = detail
            .roster
            .iter()
            .find(|l| l.participant_id == participant_id && l.standing == Standing::Enrolled)
            .ok_or_else(|| StoreError::NotFound("این شرکت‌کننده در این کارگاه ثبت‌نام ندارد.".into()))?;
        if detail.summary.cancelled.is_some() {
            return Err(StoreError::Conflict("کارگاه لغو شده گواهی ندارد.".into()));
        }
        if detail.summary.sessions_held < detail.summary.session_count {
            return Err(StoreError::Conflict("گواهی پس از برگزاری آخرین جلسه صادر می‌شود.".into()));
        }
        if !workshops::completed(line.attended, u32::from(detail.summary.sessions_held), w.completion_percent) {
            return Err(StoreError::Conflict(text::to_persian_digits(&format!(
                "«{}» در {} جلسه از {} جلسه حاضر بوده است؛ گواهی به حضور دست‌کم {} درصد جلسه‌ها داده می‌شود.",
                line.full_name, line.attended, detail.summary.sessions_held, w.completion_percent
            ))));
        }
        let minutes = u64::from(line.attended) * u64::from(w.schedule.minutes);
        let hours = if minutes % 60 == 0 {
            format!("{}", minutes / 60)
        } else {
            format!("{}٫{}", minutes / 60, (minutes % 60) * 10 / 60)
        };
        Ok(Certificate {
            center_name: self.identity().map(|i| i.center.name.clone()).unwrap_or_default(),
            participant_name: line.full_name.clone(),
            workshop_title: w.title.clone(),
            term: w.term.clone(),
            instructor_name: w.instructor_name.clone(),
            first_on_jalali: detail.summary.first_on_jalali.clone(),
            last_on_jalali: detail.summary.last_on_jalali.clone(),
            sessions_held: detail.summary.sessions_held,
            attended: line.attended,
            hours: text::to_persian_digits(&hours),
            issued_jalali: JalaliDate::from_gregorian(self.today()).to_persian_string(),
        })
    }
}
