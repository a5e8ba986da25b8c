//! Workshops (service D): terms of workshops with their schedule, capacity,
//! minimum and tuition; participants who need not be members; enrolment
//! with a waiting list whose first is offered a freed place; withdrawal;
//! cancellation for want of the minimum; attendance per session and the
//! completion certificate; the list of active workshops a family is
//! handed. The roster's rules are the domain's
//! (`kanoon_domain::workshops`); tuition is taken and given back in the
//! cash book (`cashbook::tuition`), which reads the same positions.

mod attendance;
mod enrolment;

pub use attendance::{AttendanceSheet, Certificate, SheetRow};
pub use enrolment::{EnrolInput, ParticipantInput, ParticipantView};

use chrono::{NaiveDate, NaiveTime};
use kanoon_domain::entities::{Gender, Permission};
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::text;
use kanoon_domain::workshops::{self, RefundRule, Standing};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::workshop::{self as rows, Schedule, WorkshopRecord};
use crate::rows::{Record, load_existing};

const MISSING: &str = "این کارگاه پیدا نشد.";
const MAX_TEXT: usize = 200;
/// Highest tuition a workshop may ask (a slip of the keyboard beyond it).
const MAX_TUITION: i64 = 1_000_000_000;

/// What the manager types for a workshop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkshopInput {
    pub term: String,
    pub title: String,
    pub instructor_id: Uuid,
    /// Age groups it takes (empty: any).
    pub age_groups: Vec<String>,
    /// Girls or boys only (None: both).
    pub gender: Option<Gender>,
    pub room: String,
    pub first_on: NaiveDate,
    /// 0 = Saturday … 6 = Friday.
    pub weekdays: Vec<u8>,
    pub session_count: u16,
    /// "HH:MM" (digits of any script).
    pub at: String,
    pub minutes: u16,
    pub capacity: u32,
    pub minimum: u32,
    pub tuition_rials: i64,
    pub instructor_share_percent: u8,
    /// 1: paid in full.
    pub max_installments: u8,
    pub completion_percent: u8,
    pub refund_before_percent: u8,
    pub refund_after_percent: u8,
}

/// A workshop as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkshopSummary {
    pub id: Uuid,
    pub term: String,
    pub title: String,
    pub instructor_name: String,
    pub age_groups: Vec<String>,
    pub gender: Option<Gender>,
    /// «دختران» / «پسران» / «دختر و پسر».
    pub gender_name: String,
    pub room: String,
    /// e.g. «شنبه و دوشنبه، ساعت ۱۶:۰۰ (۹۰ دقیقه)».
    pub schedule: String,
    pub first_on_jalali: String,
    pub last_on_jalali: String,
    pub session_count: u16,
    pub sessions_held: u16,
    pub capacity: u32,
    pub minimum: u32,
    pub enrolled: u32,
    pub offered: u32,
    pub waiting: u32,
    pub places_left: u32,
    /// Places held past the capacity (two desks gave the last place).
    pub over_capacity: u32,
    pub tuition_rials: i64,
    pub max_installments: u8,
    pub cancelled: Option<String>,
    /// Not enough enrolled to run.
    pub below_minimum: bool,
    /// Its last session is past.
    pub finished: bool,
}

/// A session of a workshop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkshopSessionView {
    /// 1 = the first.
    pub no: u16,
    pub on: NaiveDate,
    pub on_jalali: String,
    pub weekday: String,
    /// On or before today.
    pub held: bool,
}

/// One participant's line of the roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RosterLine {
    pub participant_id: Uuid,
    pub full_name: String,
    pub guardian_phone: String,
    pub member_id: Option<Uuid>,
    pub standing: Standing,
    /// «ثبت‌نام شده» / «در انتظار» / «جای خالی پیشنهاد شده» / «انصراف».
    pub standing_name: String,
    /// 1 = first on the waiting list.
    pub queue_position: Option<u32>,
    pub exemption_rials: i64,
    pub exemption_reason: Option<String>,
    pub installments: u8,
    pub owed_rials: i64,
    pub paid_rials: i64,
    pub refunded_rials: i64,
    pub balance_rials: i64,
    pub refund_due_rials: i64,
    pub next_installment_rials: i64,
    pub attended: u32,
    pub completed: bool,
}

/// A workshop with its sessions and roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkshopDetail {
    pub summary: WorkshopSummary,
    /// Its details as the form edits them.
    pub input: WorkshopInput,
    pub sessions: Vec<WorkshopSessionView>,
    /// Enrolled and offered first, then the waiting list in order, then
    /// those who withdrew.
    pub roster: Vec<RosterLine>,
    /// A freed place no one has been offered yet: the first waiting.
    pub next_offer: Option<Uuid>,
    /// Tuition taken net of refunds, and the instructor's share of it.
    pub taken_rials: i64,
    pub instructor_share_rials: i64,
}

/// The list of active workshops a family is handed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FamilyList {
    pub center_name: String,
    pub printed_jalali: String,
    pub workshops: Vec<WorkshopSummary>,
}

impl Desk {
    /// Sets up a workshop (a manager's).
    pub fn create_workshop(&mut self, input: WorkshopInput) -> Result<WorkshopDetail> {
        self.require(Permission::ManageWorkshops)?;
        let record = self.checked_workshop(&input, None)?;
        let id = Uuid::now_v7();
        self.write(|w| w.save(id, &record, None).map(|_| ()))?;
        self.workshop(id)
    }

    /// Changes a workshop's details. Fewer places than are held, or a
    /// schedule that drops sessions already held, is refused.
    pub fn edit_workshop(&mut self, id: Uuid, input: WorkshopInput) -> Result<WorkshopDetail> {
        self.require(Permission::ManageWorkshops)?;
        let (old, clocks) = load_existing::<WorkshopRecord>(&self.conn, id, MISSING)?;
        if old.cancelled.is_some() {
            return Err(StoreError::Conflict("این کارگاه لغو شده است و تغییر نمی‌کند.".into()));
        }
        let record = self.checked_workshop(&input, Some(&old))?;
        let (roster, _) = rows::roster_of(&self.conn, id)?;
        if record.capacity < roster.places_held() {
            return Err(StoreError::InvalidInput(format!(
                "ظرفیت را نمی‌توان کمتر از {} نفرِ ثبت‌نام‌شده کرد.",
                text::to_persian_digits(&roster.places_held().to_string())
            )));
        }
        let today = self.today();
        let held_before: Vec<&NaiveDate> = old.sessions.iter().filter(|d| **d <= today).collect();
        if held_before.iter().enumerate().any(|(i, d)| record.sessions.get(i) != Some(*d)) {
            return Err(StoreError::InvalidInput(
                "جلسه‌هایی که برگزار شده‌اند جابه‌جا نمی‌شوند؛ فقط جلسه‌های آینده را تغییر دهید.".into(),
            ));
        }
        self.write(|w| {
            w.save(id, &record, Some((&old, &clocks)))?;
            // More places may end an excess two desks made.
            if let Some(f) = rows::capacity_finding(&w.tx, id)? {
                crate::findings::record_exception(&w.tx, &f, w.now)?;
            }
            Ok(())
        })?;
        self.workshop(id)
    }

    /// Cancels a workshop (e.g. it did not reach its minimum), with the
    /// reason: every family is owed back all it paid, shown on the roster
    /// and given back in the cash book when they come.
    pub fn cancel_workshop(&mut self, id: Uuid, reason: &str) -> Result<WorkshopDetail> {
        self.require(Permission::ManageWorkshops)?;
        let reason = required(reason, "دلیل لغو")?;
        self.write(|w| {
            let (old, clocks) = load_existing::<WorkshopRecord>(&w.tx, id, MISSING)?;
            if old.cancelled.is_some() {
                return Err(StoreError::Conflict("این کارگاه پیش‌تر لغو شده است.".into()));
            }
            let new = WorkshopRecord { cancelled: Some(reason.clone()), ..old.clone() };
            w.save(id, &new, Some((&old, &clocks))).map(|_| ())
        })?;
        self.workshop(id)
    }

    /// Workshops of a term (None: every term) whose last session is today
    /// or later, or all of them (`include_past`).
    pub fn workshops(&self, term: Option<&str>, include_past: bool) -> Result<Vec<WorkshopSummary>> {
        self.signed()?;
        let from = (!include_past).then(|| self.today());
        let mut out = Vec::new();
        for (id, w) in rows::workshops_from(&self.conn, from)? {
            if term.is_some_and(|t| !t.is_empty() && t != w.term) {
                continue;
            }
            let (roster, _) = rows::roster_of(&self.conn, id)?;
            out.push(self.summary(id, &w, &roster));
        }
        Ok(out)
    }

    /// The terms workshops were set up in, latest first.
    pub fn workshop_terms(&self) -> Result<Vec<String>> {
        self.signed()?;
        let mut terms: Vec<(NaiveDate, String)> = Vec::new();
        for (_, w) in rows::workshops_from(&self.conn, None)? {
            let first = w.sessions.first().copied().unwrap_or(w.schedule.first_on);
            match terms.iter_mut().find(|(_, t)| *t == w.term) {
                Some(entry) => entry.0 = entry.0.max(first),
                None => terms.push((first, w.term.clone())),
            }
        }
        terms.sort_by_key(|t| std::cmp::Reverse(t.0));
        Ok(terms.into_iter().map(|(_, t)| t).collect())
    }

    /// The workshops a family may still join: not cancelled, not finished,
    /// with their places and tuition (for the printed list).
    pub fn family_workshop_list(&self) -> Result<FamilyList> {
        self.signed()?;
        let center_name = self.identity().map(|i| i.center.name.clone()).unwrap_or_default();
        let workshops = self.workshops(None, false)?.into_iter().filter(|w| w.cancelled.is_none()).collect();
        Ok(FamilyList {
            center_name,
            printed_jalali: JalaliDate::from_gregorian(self.today()).to_persian_string(),
            workshops,
        })
    }

    /// A workshop with its sessions and roster.
    pub fn workshop(&self, id: Uuid) -> Result<WorkshopDetail> {
        self.signed()?;
        let (w, _) = load_existing::<WorkshopRecord>(&self.conn, id, MISSING)?;
        let (roster, events) = rows::roster_of(&self.conn, id)?;
        let today = self.today();
        let presence = rows::presence_of(&self.conn, id)?;
        let held = held_count(&w, today);
        let mut lines = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (_, d) in &events {
            if !seen.insert(d.participant) {
                continue;
            }
            let Some((p, _)) = crate::rows::workshop::ParticipantRecord::load(&self.conn, d.participant)? else {
                continue;
            };
            let pos = rows::position(&self.conn, id, &w, d.participant, &roster, &events)?;
            let Some(standing) = pos.standing else { continue };
            let attended = u32::try_from(
                presence
                    .iter()
                    .filter(|(who, n)| *who == d.participant && usize::from(*n) <= usize::from(held))
                    .count(),
            )
            .unwrap_or(u32::MAX);
            lines.push(RosterLine {
                participant_id: d.participant,
                full_name: p.full_name,
                guardian_phone: p.guardian_phone,
                member_id: p.member_id,
                standing,
                standing_name: standing_name(standing).into(),
                queue_position: pos.queue_position,
                exemption_rials: pos.exemption_rials,
                exemption_reason: pos.exemption_reason,
                installments: pos.installments,
                owed_rials: pos.owed_rials,
                paid_rials: pos.paid_rials,
                refunded_rials: pos.refunded_rials,
                balance_rials: pos.balance_rials,
                refund_due_rials: pos.refund_due_rials,
                next_installment_rials: pos.next_installment_rials,
                attended,
                completed: standing == Standing::Enrolled
                    && workshops::completed(attended, u32::from(held), w.completion_percent),
            });
        }
        let order = |l: &RosterLine| match l.standing {
            Standing::Enrolled | Standing::Offered => (0, 0),
            Standing::Waiting => (1, l.queue_position.unwrap_or(u32::MAX)),
            Standing::Withdrawn => (2, 0),
        };
        lines.sort_by_key(order);
        let taken: i64 = crate::rows::cash::paid_by_participant(&self.conn, id)?.iter().map(|(_, s)| s).sum();
        let next_offer = if w.cancelled.is_none() { roster.next_offer(&w.terms()) } else { None };
        Ok(WorkshopDetail {
            summary: self.summary(id, &w, &roster),
            input: input_of(&w),
            sessions: w
                .sessions
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let j = JalaliDate::from_gregorian(*d);
                    WorkshopSessionView {
                        no: u16::try_from(i + 1).unwrap_or(u16::MAX),
                        on: *d,
                        on_jalali: j.to_persian_string(),
                        weekday: j.weekday_name().into(),
                        held: *d <= today,
                    }
                })
                .collect(),
            roster: lines,
            next_offer,
            taken_rials: taken,
            instructor_share_rials: taken * i64::from(w.instructor_share_percent.min(100)) / 100,
        })
    }

    fn summary(&self, id: Uuid, w: &WorkshopRecord, roster: &workshops::Roster) -> WorkshopSummary {
        let today = self.today();
        let (mut enrolled, mut offered) = (0, 0);
        for s in roster.standings() {
            match s {
                Standing::Enrolled => enrolled += 1,
                Standing::Offered => offered += 1,
                _ => {}
            }
        }
        let held = roster.places_held();
        let fmt =
            |d: Option<&NaiveDate>| d.map(|d| JalaliDate::from_gregorian(*d).to_persian_string()).unwrap_or_default();
        WorkshopSummary {
            id,
            term: w.term.clone(),
            title: w.title.clone(),
            instructor_name: w.instructor_name.clone(),
            age_groups: w.age_groups.clone(),
            gender: w.gender,
            gender_name: match w.gender {
                Some(Gender::Female) => "دختران",
                Some(Gender::Male) => "پسران",
                None => "دختر و پسر",
            }
            .into(),
            room: w.room.clone(),
            schedule: schedule_text(&w.schedule),
            first_on_jalali: fmt(w.sessions.first()),
            last_on_jalali: fmt(w.sessions.last()),
            session_count: u16::try_from(w.sessions.len()).unwrap_or(u16::MAX),
            sessions_held: held_count(w, today),
            capacity: w.capacity,
            minimum: w.minimum,
            enrolled,
            offered,
            waiting: u32::try_from(roster.waiting().len()).unwrap_or(u32::MAX),
            places_left: w.capacity.saturating_sub(held),
            over_capacity: roster.over_capacity(&w.terms()),
            tuition_rials: w.tuition_rials,
            max_installments: w.max_installments,
            cancelled: w.cancelled.clone(),
            below_minimum: held < w.minimum,
            finished: w.sessions.last().is_some_and(|d| *d < today),
        }
    }

    /// The record a form's input makes, checked; `old` keeps what the form
    /// does not edit (the center, a cancellation).
    fn checked_workshop(&self, input: &WorkshopInput, old: Option<&WorkshopRecord>) -> Result<WorkshopRecord> {
        let term = required(&input.term, "نام دوره (مثلاً تابستان ۱۴۰۵)")?;
        let title = required(&input.title, "عنوان کارگاه")?;
        let instructor = self
            .instructors()?
            .into_iter()
            .find(|s| s.id == input.instructor_id)
            .ok_or_else(|| StoreError::InvalidInput("مربی را از فهرست مربیان مرکز انتخاب کنید.".into()))?;
        let at = NaiveTime::parse_from_str(text::to_ascii_digits(input.at.trim()).as_str(), "%H:%M")
            .map_err(|_| StoreError::InvalidInput("ساعت را به شکل ۱۶:۰۰ بنویسید.".into()))?;
        if input.minutes == 0 || input.minutes > 480 {
            return Err(StoreError::InvalidInput("مدت هر جلسه باید بین ۱ تا ۴۸۰ دقیقه باشد.".into()));
        }
        let sessions = workshops::session_days(input.first_on, &input.weekdays, input.session_count);
        if sessions.is_empty() {
            return Err(StoreError::InvalidInput(format!(
                "روزهای هفته و تعداد جلسه‌ها (۱ تا {}) را مشخص کنید.",
                text::to_persian_digits(&workshops::MAX_SESSIONS.to_string())
            )));
        }
        if input.capacity == 0 || input.capacity > 500 {
            return Err(StoreError::InvalidInput("ظرفیت باید بین ۱ تا ۵۰۰ نفر باشد.".into()));
        }
        if input.minimum > input.capacity {
            return Err(StoreError::InvalidInput("حداقل نفرات برای برگزاری از ظرفیت بیشتر است.".into()));
        }
        if !(0..=MAX_TUITION).contains(&input.tuition_rials) {
            return Err(StoreError::InvalidInput("شهریه را به ریال و درست بنویسید.".into()));
        }
        let percents = [
            input.instructor_share_percent,
            input.completion_percent,
            input.refund_before_percent,
            input.refund_after_percent,
        ];
        if percents.iter().any(|p| *p > 100) {
            return Err(StoreError::InvalidInput("درصدها باید بین ۰ تا ۱۰۰ باشند.".into()));
        }
        if !(1..=12).contains(&input.max_installments) {
            return Err(StoreError::InvalidInput("تعداد قسط‌ها باید بین ۱ تا ۱۲ باشد.".into()));
        }
        let groups = self.age_groups()?;
        if let Some(bad) = input.age_groups.iter().find(|g| !groups.iter().any(|a| a.code == **g)) {
            return Err(StoreError::InvalidInput(format!("گروه سنی «{bad}» در فهرست گروه‌های سنی مرکز نیست.")));
        }
        let mut weekdays: Vec<u8> = input.weekdays.iter().copied().filter(|d| *d < 7).collect();
        weekdays.sort_unstable();
        weekdays.dedup();
        Ok(WorkshopRecord {
            center_id: old.map_or(self.center_id()?, |o| o.center_id),
            term,
            title,
            instructor_id: instructor.id,
            instructor_name: instructor.full_name,
            age_groups: input.age_groups.clone(),
            gender: input.gender,
            room: text::clean_text(&input.room).chars().take(MAX_TEXT).collect(),
            schedule: Schedule {
                first_on: input.first_on,
                weekdays,
                count: input.session_count,
                at,
                minutes: input.minutes,
            },
            sessions,
            capacity: input.capacity,
            minimum: input.minimum,
            tuition_rials: input.tuition_rials,
            instructor_share_percent: input.instructor_share_percent,
            max_installments: input.max_installments,
            completion_percent: input.completion_percent,
            refund_rule: RefundRule {
                before_start_percent: input.refund_before_percent,
                after_start_percent: input.refund_after_percent,
            },
            cancelled: old.and_then(|o| o.cancelled.clone()),
        })
    }
}

/// Sessions on or before `today`.
fn held_count(w: &WorkshopRecord, today: NaiveDate) -> u16 {
    u16::try_from(w.sessions.iter().filter(|d| **d <= today).count()).unwrap_or(u16::MAX)
}

fn standing_name(s: Standing) -> &'static str {
    match s {
        Standing::Enrolled => "ثبت‌نام شده",
        Standing::Waiting => "در فهرست انتظار",
        Standing::Offered => "جای خالی پیشنهاد شده",
        Standing::Withdrawn => "انصراف",
    }
}

const WEEKDAYS: [&str; 7] = ["شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه"];

fn schedule_text(s: &Schedule) -> String {
    let days: Vec<&str> = s.weekdays.iter().filter_map(|d| WEEKDAYS.get(usize::from(*d)).copied()).collect();
    let days = match days.split_last() {
        _ if days.len() == WEEKDAYS.len() => "هر روز".to_owned(),
        Some((last, rest)) if !rest.is_empty() => format!("{} و {last}", rest.join("، ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    };
    text::to_persian_digits(&format!("{days}، ساعت {} ({} دقیقه)", s.at.format("%H:%M"), s.minutes))
}

fn input_of(w: &WorkshopRecord) -> WorkshopInput {
    WorkshopInput {
        term: w.term.clone(),
        title: w.title.clone(),
        instructor_id: w.instructor_id,
        age_groups: w.age_groups.clone(),
        gender: w.gender,
        room: w.room.clone(),
        first_on: w.schedule.first_on,
        weekdays: w.schedule.weekdays.clone(),
        session_count: w.schedule.count,
        at: w.schedule.at.format("%H:%M").to_string(),
        minutes: w.schedule.minutes,
        capacity: w.capacity,
        minimum: w.minimum,
        tuition_rials: w.tuition_rials,
        instructor_share_percent: w.instructor_share_percent,
        max_installments: w.max_installments,
        completion_percent: w.completion_percent,
        refund_before_percent: w.refund_rule.before_start_percent,
        refund_after_percent: w.refund_rule.after_start_percent,
    }
}

/// Text staff must type, cleaned; refused when empty or too long.
fn required(value: &str, what: &str) -> Result<String> {
    let v = text::clean_text(value);
    if v.is_empty() {
        return Err(StoreError::InvalidInput(format!("{what} را بنویسید.")));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(StoreError::InvalidInput(format!("{what} بیش از اندازه بلند است.")));
    }
    Ok(v)
}
