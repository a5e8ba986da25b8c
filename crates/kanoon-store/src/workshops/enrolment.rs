//! Participants and the roster: a participant found or added (a member by
//! card, or a child who is not a member, with a guardian's phone),
//! enrolled or put on the waiting list, offered a freed place, accepting
//! or declining it, withdrawing.

use kanoon_domain::entities::{Gender, Permission};
use kanoon_domain::text;
use kanoon_domain::workshops::Standing;
use kanoon_protocol::EntityKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{MISSING, WorkshopDetail, required};
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::rows::workshop::{self as rows, EnrolmentData, ParticipantRecord, WorkshopRecord};
use crate::rows::{Record, load_existing};
use crate::write::Write;

const PARTICIPANT_MISSING: &str = "این شرکت‌کننده پیدا نشد.";

/// What staff type for a participant who is not (yet) a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParticipantInput {
    pub full_name: String,
    pub gender: Option<Gender>,
    pub age_group: Option<String>,
    pub guardian_name: String,
    /// The guardian's mobile (any digits).
    pub guardian_phone: String,
}

/// A participant as the enrolment form finds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ParticipantView {
    pub id: Uuid,
    pub full_name: String,
    pub gender: Option<Gender>,
    pub age_group: Option<String>,
    pub guardian_name: String,
    pub guardian_phone: String,
    pub member_id: Option<Uuid>,
    /// Titles of the workshops they are in or waiting for.
    pub workshops: Vec<String>,
}

/// An enrolment as the form records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnrolInput {
    pub workshop_id: Uuid,
    pub participant_id: Uuid,
    /// The part of the tuition the family is exempted from.
    pub exemption_rials: i64,
    pub exemption_reason: String,
    /// 1: in full.
    pub installments: u8,
    /// A manager enrolling past a full workshop.
    pub over_capacity: bool,
}

impl Desk {
    /// Adds a participant who is not a member.
    pub fn add_participant(&mut self, input: ParticipantInput) -> Result<ParticipantView> {
        self.require(Permission::EnrolWorkshops)?;
        let record = self.checked_participant(&input, None)?;
        let id = Uuid::now_v7();
        self.write(|w| w.save(id, &record, None).map(|_| ()))?;
        self.participant(id)
    }

    /// Changes a participant's details.
    pub fn edit_participant(&mut self, id: Uuid, input: ParticipantInput) -> Result<ParticipantView> {
        self.require(Permission::EnrolWorkshops)?;
        let (old, clocks) = load_existing::<ParticipantRecord>(&self.conn, id, PARTICIPANT_MISSING)?;
        let record = self.checked_participant(&input, Some(&old))?;
        self.write(|w| w.save(id, &record, Some((&old, &clocks))).map(|_| ()))?;
        self.participant(id)
    }

    /// The participant a member is (made from the member's file the first
    /// time they enrol).
    pub fn participant_for_member(&mut self, member_id: Uuid) -> Result<ParticipantView> {
        self.require(Permission::EnrolWorkshops)?;
        if let Some(id) = rows::participant_of_member(&self.conn, member_id)? {
            return self.participant(id);
        }
        let m = self.member(member_id)?;
        let record = ParticipantRecord {
            center_id: self.center_id()?,
            full_name: m.full_name.clone(),
            gender: Some(m.details.gender),
            age_group: m.age_group.clone(),
            guardian_name: String::new(),
            guardian_phone: m.guardian_phone.clone().unwrap_or_default(),
            member_id: Some(member_id),
        };
        let id = Uuid::now_v7();
        self.write(|w| w.save(id, &record, None).map(|_| ()))?;
        self.participant(id)
    }

    /// Records that a participant has become a member (registered in the
    /// membership window): their workshops stay theirs.
    pub fn link_participant_to_member(&mut self, id: Uuid, member_id: Uuid) -> Result<ParticipantView> {
        self.require(Permission::EnrolWorkshops)?;
        self.member(member_id)?;
        if let Some(other) = rows::participant_of_member(&self.conn, member_id)?
            && other != id
        {
            return Err(StoreError::Conflict("این عضو پیش‌تر شرکت‌کنندهٔ دیگری در کارگاه‌هاست.".into()));
        }
        self.write(|w| {
            let (old, clocks) = load_existing::<ParticipantRecord>(&w.tx, id, PARTICIPANT_MISSING)?;
            let new = ParticipantRecord { member_id: Some(member_id), ..old.clone() };
            w.save(id, &new, Some((&old, &clocks))).map(|_| ())
        })?;
        self.participant(id)
    }

    /// Participants by name, guardian's name or phone (at most 20).
    pub fn find_participants(&self, query: &str) -> Result<Vec<ParticipantView>> {
        self.signed()?;
        rows::find_participants(&self.conn, query, 20)?
            .into_iter()
            .map(|(id, p)| self.participant_view(id, p))
            .collect()
    }

    pub fn participant(&self, id: Uuid) -> Result<ParticipantView> {
        self.signed()?;
        let (p, _) = load_existing::<ParticipantRecord>(&self.conn, id, PARTICIPANT_MISSING)?;
        self.participant_view(id, p)
    }

    /// Enrols a participant: a place while one is free, else the waiting
    /// list; a manager may enrol past a full workshop, recorded as such.
    pub fn enrol(&mut self, input: EnrolInput) -> Result<WorkshopDetail> {
        let staff = self.require(Permission::EnrolWorkshops)?.clone();
        let (w, _) = load_existing::<WorkshopRecord>(&self.conn, input.workshop_id, MISSING)?;
        let (p, _) = load_existing::<ParticipantRecord>(&self.conn, input.participant_id, PARTICIPANT_MISSING)?;
        open_for_enrolment(&w, self.today())?;
        check_limits(&w, &p)?;
        let exemption_reason = text::clean_text(&input.exemption_reason);
        if !(0..=w.tuition_rials).contains(&input.exemption_rials) {
            return Err(StoreError::InvalidInput("تخفیف نمی‌تواند منفی یا بیش از شهریه باشد.".into()));
        }
        if input.exemption_rials > 0 && exemption_reason.is_empty() {
            return Err(StoreError::InvalidInput("دلیل تخفیف یا معافیت را بنویسید.".into()));
        }
        if !(1..=w.max_installments.max(1)).contains(&input.installments) {
            return Err(StoreError::InvalidInput(format!(
                "این کارگاه را حداکثر در {} قسط می‌توان پرداخت.",
                text::to_persian_digits(&w.max_installments.to_string())
            )));
        }
        let over_by = if input.over_capacity { Some(self.require(Permission::ManageWorkshops)?.id) } else { None };
        self.write(|wr| {
            let (roster, _) = rows::roster_of(&wr.tx, input.workshop_id)?;
            if roster.standing(input.participant_id).is_some_and(|s| s != Standing::Withdrawn) {
                return Err(StoreError::Conflict(format!("«{}» پیش‌تر در این کارگاه ثبت شده است.", p.full_name)));
            }
            let decided = roster.decide(&w.terms());
            let standing = if over_by.is_some() { Standing::Enrolled } else { decided };
            let data = EnrolmentData {
                standing: Some(standing),
                over_capacity_by: over_by.filter(|_| decided == Standing::Waiting),
                exemption_rials: input.exemption_rials,
                exemption_reason: (!exemption_reason.is_empty()).then_some(exemption_reason.clone()),
                installments: Some(input.installments),
                ..EnrolmentData::new(input.workshop_id, input.participant_id, Some(staff.full_name.clone()))
            };
            record(wr, rows::JOINED, &data)
        })?;
        self.workshop(input.workshop_id)
    }

    /// Offers the freed place to the first on the waiting list (done at
    /// once after a withdrawal on this desk; by hand when the place was
    /// freed on another).
    pub fn offer_place(&mut self, workshop_id: Uuid) -> Result<WorkshopDetail> {
        let staff = self.require(Permission::EnrolWorkshops)?.clone();
        self.write(|w| {
            if offer_next(w, workshop_id, &staff.full_name)?.is_none() {
                return Err(StoreError::Conflict("جای خالی یا کسی در فهرست انتظار نیست.".into()));
            }
            Ok(())
        })?;
        self.workshop(workshop_id)
    }

    /// The participant offered a place takes it.
    pub fn accept_place(&mut self, workshop_id: Uuid, participant_id: Uuid) -> Result<WorkshopDetail> {
        let staff = self.require(Permission::EnrolWorkshops)?.clone();
        self.write(|w| {
            let (roster, _) = rows::roster_of(&w.tx, workshop_id)?;
            if roster.standing(participant_id) != Some(Standing::Offered) {
                return Err(StoreError::Conflict("به این شرکت‌کننده جایی پیشنهاد نشده است.".into()));
            }
            record(w, rows::ACCEPTED, &EnrolmentData::new(workshop_id, participant_id, Some(staff.full_name.clone())))
        })?;
        self.workshop(workshop_id)
    }

    /// Withdraws a participant (or an offer declined), with the reason; a
    /// place it frees is offered at once to the first waiting. What is
    /// owed back by the refund rule shows on the roster and is given back
    /// in the cash book.
    pub fn withdraw(&mut self, workshop_id: Uuid, participant_id: Uuid, reason: &str) -> Result<WorkshopDetail> {
        let staff = self.require(Permission::EnrolWorkshops)?.clone();
        let reason = required(reason, "دلیل انصراف")?;
        self.write(|w| {
            let (roster, _) = rows::roster_of(&w.tx, workshop_id)?;
            match roster.standing(participant_id) {
                None => return Err(StoreError::NotFound("این شرکت‌کننده در این کارگاه نیست.".into())),
                Some(Standing::Withdrawn) => return Err(StoreError::Conflict("پیش‌تر انصراف داده است.".into())),
                Some(_) => {}
            }
            let data = EnrolmentData {
                reason: Some(reason.clone()),
                ..EnrolmentData::new(workshop_id, participant_id, Some(staff.full_name.clone()))
            };
            record(w, rows::LEFT, &data)?;
            let (old, _) = load_existing::<WorkshopRecord>(&w.tx, workshop_id, MISSING)?;
            if old.cancelled.is_none() {
                offer_next(w, workshop_id, &staff.full_name)?;
            }
            Ok(())
        })?;
        self.workshop(workshop_id)
    }

    fn participant_view(&self, id: Uuid, p: ParticipantRecord) -> Result<ParticipantView> {
        let mut workshops = Vec::new();
        for w in rows::workshops_of_participant(&self.conn, id)? {
            let Some((record, _)) = WorkshopRecord::load(&self.conn, w)? else { continue };
            let (roster, _) = rows::roster_of(&self.conn, w)?;
            if roster.standing(id).is_some_and(|s| s != Standing::Withdrawn) {
                workshops.push(record.title);
            }
        }
        Ok(ParticipantView {
            id,
            full_name: p.full_name,
            gender: p.gender,
            age_group: p.age_group,
            guardian_name: p.guardian_name,
            guardian_phone: p.guardian_phone,
            member_id: p.member_id,
            workshops,
        })
    }

    fn checked_participant(
        &self,
        input: &ParticipantInput,
        old: Option<&ParticipantRecord>,
    ) -> Result<ParticipantRecord> {
        let full_name = required(&input.full_name, "نام و نام خانوادگی شرکت‌کننده")?;
        let phone = kanoon_domain::ids::Mobile::parse(&input.guardian_phone)
            .map_err(|_| StoreError::InvalidInput("شمارهٔ همراه ولی را به شکل ۰۹۱۲۱۲۳۴۵۶۷ بنویسید.".into()))?
            .as_str()
            .to_owned();
        let age_group = input.age_group.clone().filter(|g| !g.is_empty());
        if let Some(g) = &age_group
            && !self.age_groups()?.iter().any(|a| a.code == *g)
        {
            return Err(StoreError::InvalidInput(format!("گروه سنی «{g}» در فهرست گروه‌های سنی مرکز نیست.")));
        }
        Ok(ParticipantRecord {
            center_id: old.map_or(self.center_id()?, |o| o.center_id),
            full_name,
            gender: input.gender,
            age_group,
            guardian_name: text::clean_text(&input.guardian_name),
            guardian_phone: phone,
            member_id: old.and_then(|o| o.member_id),
        })
    }
}

/// Appends one enrolment event and keeps it.
fn record(w: &mut Write<'_>, kind: &str, data: &EnrolmentData) -> Result<()> {
    let id = Uuid::now_v7();
    let stamp = w.service_event(EntityKind::ENROLMENT, id, kind, serde_json::to_value(data)?)?;
    rows::insert_enrolment(&w.tx, id, kind, data, &stamp)?;
    // A withdrawal here may end an over-capacity another desk caused.
    if let Some(f) = rows::capacity_finding(&w.tx, data.workshop_id)? {
        crate::findings::record_exception(&w.tx, &f, w.now)?;
    }
    Ok(())
}

/// Offers a free place to the first waiting, if there is both.
fn offer_next(w: &mut Write<'_>, workshop_id: Uuid, staff_name: &str) -> Result<Option<Uuid>> {
    let (workshop, _) = load_existing::<WorkshopRecord>(&w.tx, workshop_id, MISSING)?;
    let (roster, _) = rows::roster_of(&w.tx, workshop_id)?;
    let Some(first) = roster.next_offer(&workshop.terms()) else { return Ok(None) };
    record(w, rows::OFFERED, &EnrolmentData::new(workshop_id, first, Some(staff_name.to_owned())))?;
    Ok(Some(first))
}

fn open_for_enrolment(w: &WorkshopRecord, today: chrono::NaiveDate) -> Result<()> {
    if let Some(reason) = &w.cancelled {
        return Err(StoreError::Conflict(format!("این کارگاه لغو شده است ({reason}).")));
    }
    if w.sessions.last().is_some_and(|d| *d < today) {
        return Err(StoreError::Conflict("این کارگاه به پایان رسیده است.".into()));
    }
    Ok(())
}

/// The workshop's age group and gender limits.
fn check_limits(w: &WorkshopRecord, p: &ParticipantRecord) -> Result<()> {
    if let (Some(only), Some(g)) = (w.gender, p.gender)
        && only != g
    {
        let who = if only == Gender::Female { "دختران" } else { "پسران" };
        return Err(StoreError::InvalidInput(format!("این کارگاه فقط برای {who} است.")));
    }
    if !w.age_groups.is_empty() {
        match &p.age_group {
            Some(g) if w.age_groups.contains(g) => {}
            Some(g) => {
                return Err(StoreError::InvalidInput(format!(
                    "گروه سنی «{g}» در این کارگاه نیست (گروه‌های کارگاه: {}).",
                    w.age_groups.join("، ")
                )));
            }
            None => {
                return Err(StoreError::InvalidInput(
                    "گروه سنی شرکت‌کننده را در پروندهٔ او مشخص کنید؛ این کارگاه گروه سنی دارد.".into(),
                ));
            }
        }
    }
    Ok(())
}
