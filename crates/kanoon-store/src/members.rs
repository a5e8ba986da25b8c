//! Membership (service A): centers and staff records, registering members
//! with their documents, photo and first fee, renewals, edits with history,
//! search, the card.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use kanoon_domain::age_group::{self, AgeGroup};
use kanoon_domain::circulation::{Event, Fee};
use kanoon_domain::entities::{AlternativeId, Center, CenterKind, Documents, Gender, Permission, Role, Staff};
use kanoon_domain::ids::{MemberNumber, Mobile, NationalId};
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::text;
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::desk::{Desk, Write, parse_clocks, parse_date, parse_uuid, uuid_column};
use crate::error::{Result, StoreError};

// ---------------------------------------------------------------- centers & staff

pub(crate) fn insert_center(w: &mut Write<'_>, c: &Center) -> Result<()> {
    let fields = BTreeMap::from([
        ("code".to_owned(), serde_json::json!(c.code)),
        ("name".to_owned(), serde_json::json!(c.name)),
        ("kind".to_owned(), serde_json::json!(c.kind)),
        ("address".to_owned(), serde_json::json!(c.address)),
        ("phone".to_owned(), serde_json::json!(c.phone)),
    ]);
    let (_, clocks) = w.patch(EntityKind::CENTER, c.id, fields, &BTreeMap::new())?;
    w.tx.execute(
        "INSERT INTO centers (id, code, name, kind, address, phone, field_clocks) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![c.id.to_string(), c.code, c.name, c.kind.as_str(), c.address, c.phone, serde_json::to_string(&clocks)?],
    )?;
    Ok(())
}

pub(crate) fn load_center(conn: &Connection, id: &str) -> Result<Center> {
    conn.query_row("SELECT id, code, name, kind, address, phone FROM centers WHERE id = ?1", [id], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get(4)?, r.get(5)?))
    })
    .optional()?
    .map(|(id, code, name, kind, address, phone)| {
        Ok(Center {
            id: parse_uuid(&id)?,
            code,
            name,
            kind: CenterKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("نوع مرکز «{kind}»")))?,
            address,
            phone,
        })
    })
    .ok_or_else(|| StoreError::Corrupt("مرکز این میز در پایگاه نیست".into()))?
}

pub(crate) fn insert_staff(w: &mut Write<'_>, s: &Staff) -> Result<()> {
    if s.username.is_empty() {
        return Err(StoreError::InvalidInput("نام کاربری را وارد کنید.".into()));
    }
    let exists: bool =
        w.tx.query_row("SELECT EXISTS (SELECT 1 FROM staff WHERE username = ?1)", [&s.username], |r| r.get(0))?;
    if exists {
        return Err(StoreError::Conflict(format!(
            "نام کاربری «{}» پیش‌تر ثبت شده است؛ نام دیگری برگزینید.",
            s.username
        )));
    }
    let fields = BTreeMap::from([
        ("username".to_owned(), serde_json::json!(s.username)),
        ("full_name".to_owned(), serde_json::json!(s.full_name)),
        ("role".to_owned(), serde_json::json!(s.role)),
        ("active".to_owned(), serde_json::json!(s.active)),
        ("center_id".to_owned(), serde_json::json!(s.center_id)),
    ]);
    let (_, clocks) = w.patch(EntityKind::STAFF, s.id, fields, &BTreeMap::new())?;
    w.tx.execute(
        "INSERT INTO staff (id, center_id, username, full_name, role, active, field_clocks) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            s.id.to_string(),
            s.center_id.to_string(),
            s.username,
            s.full_name,
            s.role.as_str(),
            s.active,
            serde_json::to_string(&clocks)?
        ],
    )?;
    Ok(())
}

pub(crate) fn staff_by_username(conn: &Connection, username: &str) -> Result<Option<Staff>> {
    conn.query_row(
        "SELECT id, center_id, username, full_name, role, active FROM staff WHERE username = ?1",
        [username],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, String>(4)?,
                r.get(5)?,
            ))
        },
    )
    .optional()?
    .map(|(id, center, username, full_name, role, active)| {
        Ok(Staff {
            id: parse_uuid(&id)?,
            center_id: parse_uuid(&center)?,
            username,
            full_name,
            role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("نقش «{role}»")))?,
            active,
        })
    })
    .transpose()
}

// ---------------------------------------------------------------- DTOs

/// A photo as handed in (already cropped and resized by the UI).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Photo {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// How a membership period is paid for, as entered at the desk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeeInput {
    Paid { amount_rials: i64, receipt_number: String },
    Exempt { exemption: String, reason: String },
}

/// The member's details as typed in the registration or edit form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberDetails {
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub gender: Gender,
    pub birth_date: Option<JalaliDate>,
    /// As typed (any digit script); validated.
    pub national_id: Option<String>,
    pub alternative_id: Option<AlternativeId>,
    pub school_grade: Option<u8>,
    /// As typed; validated.
    pub guardian_phone: Option<String>,
    pub address: String,
    pub village: Option<String>,
    pub documents: Documents,
    pub age_group_override: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RegisterMember {
    pub details: MemberDetails,
    pub photo: Option<Photo>,
    pub fee: FeeInput,
    /// Set after staff saw the "national id already registered" warning.
    pub confirm_duplicate_national_id: bool,
    /// The number on a card issued by the software used before.
    pub legacy_number: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RegisterOutcome {
    Registered {
        member: Box<MemberView>,
    },
    /// Nothing was written: the national id belongs to these members.
    DuplicateNationalId {
        existing: Vec<MemberSummary>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MembershipState {
    pub ends_on: Option<NaiveDate>,
    pub ends_on_jalali: Option<String>,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberView {
    pub id: Uuid,
    pub member_number: String,
    pub legacy_number: Option<String>,
    pub full_name: String,
    pub details: MemberDetails,
    /// Normalized national id (10 digits).
    pub national_id: Option<String>,
    pub guardian_phone: Option<String>,
    /// The age group used for the loan check: the override, else derived.
    pub age_group: Option<String>,
    pub has_photo: bool,
    pub membership: MembershipState,
    pub merged_into: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberSummary {
    pub id: Uuid,
    pub member_number: String,
    pub full_name: String,
    pub father_name: String,
    pub national_id: Option<String>,
    /// Last day of the latest membership period (compare with today).
    pub membership_ends_on: Option<NaiveDate>,
    pub membership_ends_jalali: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberEdit {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub staff: Option<String>,
    pub at_jalali: String,
}

/// One membership period and how it was paid for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MembershipPeriod {
    pub period_id: Uuid,
    pub starts_on_jalali: String,
    pub ends_on_jalali: String,
    pub fee: Fee,
    pub recorded_at_jalali: String,
    pub voided: bool,
}

/// What the printed membership card shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberCard {
    pub member_number: String,
    pub full_name: String,
    pub father_name: String,
    pub center_name: String,
    pub expires_jalali: Option<String>,
    pub photo: Option<Photo>,
}

// ---------------------------------------------------------------- validation

/// A validated member: what is stored.
pub(crate) struct ValidMember {
    details: MemberDetails,
    birth_date: Option<NaiveDate>,
    national_id: Option<NationalId>,
    guardian_phone: Option<Mobile>,
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub(crate) fn validate(
    mut d: MemberDetails,
    center_kind: CenterKind,
    groups: &[AgeGroup],
    today: NaiveDate,
) -> Result<ValidMember> {
    d.first_name = d.first_name.trim().to_owned();
    d.last_name = d.last_name.trim().to_owned();
    d.father_name = d.father_name.trim().to_owned();
    d.address = d.address.trim().to_owned();
    d.village = d.village.as_deref().and_then(non_empty);
    // A name of only invisible marks is as empty as no name.
    if text::normalize_search(&d.first_name).is_empty() || text::normalize_search(&d.last_name).is_empty() {
        return Err(StoreError::InvalidInput("نام و نام خانوادگی عضو را وارد کنید.".into()));
    }
    let national_id = d.national_id.as_deref().and_then(non_empty).map(|s| NationalId::parse(&s)).transpose()?;
    d.national_id = national_id.as_ref().map(|n| n.as_str().to_owned());
    d.alternative_id = d.alternative_id.and_then(|a| {
        let value = text::to_ascii_digits(a.value.trim());
        (!value.is_empty()).then(|| AlternativeId { kind: a.kind.trim().to_owned(), value })
    });
    if national_id.is_none() && d.alternative_id.is_none() {
        return Err(StoreError::InvalidInput(
            "کد ملی یا، برای کودکانی که کد ملی ندارند، نوع و شماره شناسه جایگزین را وارد کنید.".into(),
        ));
    }
    if let Some(a) = &d.alternative_id
        && a.kind.is_empty()
    {
        return Err(StoreError::InvalidInput("نوع شناسه جایگزین را بنویسید (مثلاً کارت آمایش).".into()));
    }
    let guardian_phone = d.guardian_phone.as_deref().and_then(non_empty).map(|s| Mobile::parse(&s)).transpose()?;
    d.guardian_phone = guardian_phone.as_ref().map(|m| m.as_str().to_owned());
    if let Some(g) = d.school_grade
        && g > 12
    {
        return Err(StoreError::InvalidInput("پایه تحصیلی باید بین ۰ (پیش‌دبستانی) تا ۱۲ باشد.".into()));
    }
    if let Some(code) = d.age_group_override.as_deref().and_then(non_empty) {
        let code = age_group::normalize_code(&code)
            .filter(|c| groups.iter().any(|g| &g.code == c))
            .ok_or_else(|| StoreError::InvalidInput(format!("گروه سنی «{code}» شناخته نیست.")))?;
        d.age_group_override = Some(code);
    } else {
        d.age_group_override = None;
    }
    if matches!(center_kind, CenterKind::Mobile | CenterKind::Postal) && d.village.is_none() {
        return Err(StoreError::InvalidInput("برای اعضای مرکز سیار و پستی نام روستا را وارد کنید.".into()));
    }
    // The form sends year/month/day; check them as a real Jalali date.
    let birth_date = match d.birth_date {
        Some(j) => {
            let date = JalaliDate::new(j.year, j.month, j.day)?;
            if date.to_gregorian() > today {
                return Err(StoreError::InvalidInput(format!("تاریخ تولد {date} بعد از امروز است.")));
            }
            Some(date.to_gregorian())
        }
        None => None,
    };
    Ok(ValidMember { birth_date, details: d, national_id, guardian_phone })
}

/// The record fields as they are patched and synced.
fn member_fields(v: &ValidMember) -> BTreeMap<String, serde_json::Value> {
    let d = &v.details;
    BTreeMap::from([
        ("first_name".to_owned(), serde_json::json!(d.first_name)),
        ("last_name".to_owned(), serde_json::json!(d.last_name)),
        ("father_name".to_owned(), serde_json::json!(d.father_name)),
        ("gender".to_owned(), serde_json::json!(d.gender)),
        ("birth_date".to_owned(), serde_json::json!(v.birth_date)),
        ("national_id".to_owned(), serde_json::json!(v.national_id)),
        ("alternative_id".to_owned(), serde_json::json!(d.alternative_id)),
        ("school_grade".to_owned(), serde_json::json!(d.school_grade)),
        ("guardian_phone".to_owned(), serde_json::json!(v.guardian_phone)),
        ("address".to_owned(), serde_json::json!(d.address)),
        ("village".to_owned(), serde_json::json!(d.village)),
        ("documents".to_owned(), serde_json::json!(d.documents)),
        ("age_group_override".to_owned(), serde_json::json!(d.age_group_override)),
    ])
}

fn member_search_text(v: &ValidMember, number: &str, legacy: Option<&str>) -> String {
    let d = &v.details;
    search_text(&d.first_name, &d.last_name, &d.father_name, number, legacy, v.national_id.as_ref())
}

/// What the member search index holds for a member: names (words joined
/// pairwise too) and the numbers people search by.
pub(crate) fn search_text(
    first: &str,
    last: &str,
    father: &str,
    number: &str,
    legacy: Option<&str>,
    national_id: Option<&NationalId>,
) -> String {
    let mut s = text::index_name_text(&format!("{first} {last} {father}"));
    for extra in [Some(number), legacy, national_id.map(|n| n.as_str())].into_iter().flatten() {
        s.push(' ');
        s.push_str(&text::normalize_search(extra));
    }
    s
}

fn member_sort_key(first: &str, last: &str) -> String {
    text::collation_key(&format!("{last} {first}"))
}

// ---------------------------------------------------------------- writes

pub(crate) struct NewMember<'a> {
    pub valid: &'a ValidMember,
    pub legacy_number: Option<&'a str>,
    pub photo: Option<&'a Photo>,
}

/// Allocates the next member number; the counter only ever grows.
fn next_member_number(w: &mut Write<'_>) -> Result<MemberNumber> {
    let counter: u64 =
        w.tx.query_row("SELECT value FROM meta WHERE key = 'member_counter'", [], |r| r.get::<_, String>(0))
            .optional()?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
            + 1;
    // Numbers already in the database (a reinstalled desk whose members came
    // back by sync) are skipped, never issued twice.
    let mut counter = counter;
    let mut number = MemberNumber::compose(&w.identity.center.code, w.identity.desk_number, counter)?;
    while w.tx.query_row("SELECT EXISTS (SELECT 1 FROM members WHERE member_number = ?1)", [number.as_str()], |r| {
        r.get::<_, bool>(0)
    })? {
        counter += 1;
        number = MemberNumber::compose(&w.identity.center.code, w.identity.desk_number, counter)?;
    }
    w.tx.execute("UPDATE meta SET value = ?1 WHERE key = 'member_counter'", [counter.to_string()])?;
    Ok(number)
}

pub(crate) fn insert_member(w: &mut Write<'_>, m: NewMember<'_>) -> Result<Uuid> {
    let v = m.valid;
    let id = Uuid::now_v7();
    let number = next_member_number(w)?;
    let mut fields = member_fields(v);
    fields.insert("member_number".into(), serde_json::json!(number));
    fields.insert("legacy_number".into(), serde_json::json!(m.legacy_number));
    fields.insert("center_id".into(), serde_json::json!(w.center_id()));
    let (_, clocks) = w.patch(EntityKind::MEMBER, id, fields, &BTreeMap::new())?;
    let d = &v.details;
    w.tx.prepare_cached(
        "INSERT INTO members (id, center_id, member_number, legacy_number, first_name, last_name, father_name, gender,
             birth_date, national_id, alt_id_kind, alt_id, school_grade, guardian_phone, address, village, doc_photo,
             doc_birth_certificate, age_group_override, sort_key, created_at, field_clocks)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    )?
    .execute(params![
        id.to_string(),
        w.center_id().to_string(),
        number.as_str(),
        m.legacy_number,
        d.first_name,
        d.last_name,
        d.father_name,
        d.gender.as_str(),
        v.birth_date.map(|b| b.to_string()),
        v.national_id.as_ref().map(|n| n.as_str()),
        d.alternative_id.as_ref().map(|a| a.kind.as_str()),
        d.alternative_id.as_ref().map(|a| a.value.as_str()),
        d.school_grade,
        v.guardian_phone.as_ref().map(|p| p.as_str()),
        d.address,
        d.village,
        d.documents.photo,
        d.documents.birth_certificate_copy,
        d.age_group_override,
        member_sort_key(&d.first_name, &d.last_name),
        w.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        serde_json::to_string(&clocks)?,
    ])?;
    let seq = w.tx.last_insert_rowid();
    w.tx.prepare_cached("INSERT INTO member_search (rowid, text) VALUES (?1, ?2)")?
        .execute(params![seq, member_search_text(v, number.as_str(), m.legacy_number)])?;
    if let Some(p) = m.photo {
        save_photo(w, id, p)?;
    }
    Ok(id)
}

fn save_photo(w: &mut Write<'_>, member_id: Uuid, p: &Photo) -> Result<()> {
    if !matches!(p.mime.as_str(), "image/jpeg" | "image/png" | "image/webp") || p.bytes.is_empty() {
        return Err(StoreError::InvalidInput("عکس باید پرونده JPEG، PNG یا WebP باشد.".into()));
    }
    if p.bytes.len() > 2 * 1024 * 1024 {
        return Err(StoreError::InvalidInput("حجم عکس بیش از ۲ مگابایت است؛ آن را کوچک‌تر کنید.".into()));
    }
    // Photos travel as their own low-priority stream, not as ops.
    w.tx.execute(
        "INSERT INTO member_photos (member_id, mime, bytes, updated_at, device_id, pushed) VALUES (?1, ?2, ?3, ?4, ?5, 0)
         ON CONFLICT (member_id) DO UPDATE SET mime = excluded.mime, bytes = excluded.bytes,
             updated_at = excluded.updated_at, device_id = excluded.device_id, pushed = 0",
        params![
            member_id.to_string(),
            p.mime,
            p.bytes,
            w.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            w.identity.device_id.to_string()
        ],
    )?;
    Ok(())
}

/// Records a membership period starting `starts_on`, with its fee.
pub(crate) fn add_membership_period(
    w: &mut Write<'_>,
    member_id: Uuid,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    fee: Fee,
) -> Result<Uuid> {
    let period_id = Uuid::now_v7();
    w.event(period_id, Event::Membership { member_id, starts_on, ends_on, fee })?;
    w.tx.prepare_cached("INSERT INTO memberships (period_id, member_id, starts_on, ends_on) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![period_id.to_string(), member_id.to_string(), starts_on.to_string(), ends_on.to_string()])?;
    Ok(period_id)
}

pub(crate) fn fee_from_input(conn: &Connection, fee: FeeInput) -> Result<Fee> {
    match fee {
        FeeInput::Paid { amount_rials, receipt_number } => {
            let receipt_number = text::to_ascii_digits(receipt_number.trim());
            if amount_rials <= 0 {
                return Err(StoreError::InvalidInput(
                    "مبلغ پرداختی را به ریال وارد کنید، یا معافیت از پرداخت را با دلیل آن ثبت کنید.".into(),
                ));
            }
            if receipt_number.is_empty() {
                return Err(StoreError::InvalidInput("شماره رسید پرداخت را وارد کنید.".into()));
            }
            Ok(Fee::Paid { amount_rials, receipt_number })
        }
        FeeInput::Exempt { exemption, reason } => {
            let known: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM fee_exemptions WHERE code = ?1 AND active = 1)",
                [&exemption],
                |r| r.get(0),
            )?;
            if !known {
                return Err(StoreError::InvalidInput(format!("معافیت «{exemption}» در سیاست‌های مرکز تعریف نشده است.")));
            }
            if reason.trim().is_empty() {
                return Err(StoreError::InvalidInput("دلیل معافیت از حق عضویت را بنویسید.".into()));
            }
            Ok(Fee::Exempt { exemption, reason: reason.trim().to_owned() })
        }
    }
}

impl Desk {
    /// Registers a member: record, documents, photo and the first
    /// membership period with its fee or exemption, in one transaction.
    pub fn register_member(&mut self, req: RegisterMember) -> Result<RegisterOutcome> {
        self.require(Permission::RegisterMembers)?;
        // The membership period is dated by today: a wrong clock would date it wrong.
        self.check_clock()?;
        let kind = self.id()?.center.kind;
        let groups = self.reference()?.age_groups.clone();
        let valid = validate(req.details, kind, &groups, self.today())?;
        let fee = fee_from_input(&self.conn, req.fee)?;
        if let Some(nid) = &valid.national_id
            && !req.confirm_duplicate_national_id
        {
            let existing = self.members_with_national_id(nid.as_str())?;
            if !existing.is_empty() {
                return Ok(RegisterOutcome::DuplicateNationalId { existing });
            }
        }
        let legacy = req.legacy_number.as_deref().and_then(non_empty).map(|s| text::to_ascii_digits(&s));
        let terms = self.membership_terms()?;
        let id = self.write(|w| {
            let id = insert_member(
                w,
                NewMember { valid: &valid, legacy_number: legacy.as_deref(), photo: req.photo.as_ref() },
            )?;
            let start = w.today();
            let end = start.checked_add_days(Days::new(u64::from(terms.period_days))).unwrap_or(start);
            add_membership_period(w, id, start, end, fee)?;
            Ok(id)
        })?;
        Ok(RegisterOutcome::Registered { member: Box::new(self.member(id)?) })
    }

    /// A new membership period: from the day after the current one ends,
    /// or from today if it has already ended.
    pub fn renew_membership(&mut self, member_id: Uuid, fee: FeeInput) -> Result<MemberView> {
        self.require(Permission::RegisterMembers)?;
        self.check_clock()?;
        let member = self.member(member_id)?;
        refuse_merged(&member)?;
        let fee = fee_from_input(&self.conn, fee)?;
        let terms = self.membership_terms()?;
        self.write(|w| {
            let today = w.today();
            let days = Days::new(u64::from(terms.period_days));
            // A period as long as a new member's: start + period_days.
            let (start, end) = match member.membership.ends_on {
                Some(current) if current >= today => {
                    (current.succ_opt().unwrap_or(current), current.checked_add_days(days).unwrap_or(current))
                }
                _ => (today, today.checked_add_days(days).unwrap_or(today)),
            };
            add_membership_period(w, member_id, start, end, fee)
        })?;
        self.member(member_id)
    }

    /// Changes a member's details; each changed field is kept in the history
    /// with its old value, and synced as one patch.
    pub fn edit_member(&mut self, member_id: Uuid, details: MemberDetails) -> Result<MemberView> {
        self.require(Permission::RegisterMembers)?;
        let kind = self.id()?.center.kind;
        let groups = self.reference()?.age_groups.clone();
        let valid = validate(details, kind, &groups, self.today())?;
        let current = self.member(member_id)?;
        refuse_merged(&current)?;
        let (seq, clocks): (i64, String) = self.conn.query_row(
            "SELECT seq, field_clocks FROM members WHERE id = ?1",
            [member_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let old_clocks = parse_clocks(&clocks)?;
        // The stored values as they are (they passed the rules of their day).
        let old_fields = member_fields(&ValidMember {
            details: current.details.clone(),
            birth_date: current.details.birth_date.map(|j| j.to_gregorian()),
            national_id: current.national_id.as_deref().and_then(|n| NationalId::parse(n).ok()),
            guardian_phone: current.guardian_phone.as_deref().and_then(|p| Mobile::parse(p).ok()),
        });
        let changed: BTreeMap<String, serde_json::Value> =
            member_fields(&valid).into_iter().filter(|(k, v)| old_fields.get(k) != Some(v)).collect();
        if changed.is_empty() {
            return Ok(current);
        }
        self.write(|w| {
            for (field, new) in &changed {
                w.tx.execute(
                    "INSERT INTO member_edits (member_id, field, old_value, new_value, staff_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        member_id.to_string(),
                        field,
                        old_fields.get(field).and_then(plain_text),
                        plain_text(new),
                        w.staff_id.map(|s| s.to_string()),
                        w.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    ],
                )?;
            }
            let (_, clocks) = w.patch(EntityKind::MEMBER, member_id, changed, &old_clocks)?;
            let d = &valid.details;
            w.tx.execute(
                "UPDATE members SET first_name = ?2, last_name = ?3, father_name = ?4, gender = ?5, birth_date = ?6,
                     national_id = ?7, alt_id_kind = ?8, alt_id = ?9, school_grade = ?10, guardian_phone = ?11, address = ?12,
                     village = ?13, doc_photo = ?14, doc_birth_certificate = ?15, age_group_override = ?16, sort_key = ?17,
                     field_clocks = ?18
                 WHERE id = ?1",
                params![
                    member_id.to_string(),
                    d.first_name,
                    d.last_name,
                    d.father_name,
                    d.gender.as_str(),
                    valid.birth_date.map(|b| b.to_string()),
                    valid.national_id.as_ref().map(|n| n.as_str()),
                    d.alternative_id.as_ref().map(|a| a.kind.as_str()),
                    d.alternative_id.as_ref().map(|a| a.value.as_str()),
                    d.school_grade,
                    valid.guardian_phone.as_ref().map(|p| p.as_str()),
                    d.address,
                    d.village,
                    d.documents.photo,
                    d.documents.birth_certificate_copy,
                    d.age_group_override,
                    member_sort_key(&d.first_name, &d.last_name),
                    serde_json::to_string(&clocks)?,
                ],
            )?;
            w.tx.execute(
                "UPDATE member_search SET text = ?2 WHERE rowid = ?1",
                params![seq, member_search_text(&valid, &current.member_number, current.legacy_number.as_deref())],
            )?;
            Ok(())
        })?;
        self.member(member_id)
    }

    /// Adds a staff account of this center.
    pub fn add_staff(&mut self, username: &str, full_name: &str, role: Role) -> Result<Staff> {
        self.require(Permission::ManageStaff)?;
        let staff = Staff {
            id: Uuid::now_v7(),
            center_id: self.id()?.center.id,
            username: username.trim().to_owned(),
            full_name: full_name.trim().to_owned(),
            role,
            active: true,
        };
        if staff.full_name.is_empty() {
            return Err(StoreError::InvalidInput("نام و نام خانوادگی کارمند را وارد کنید.".into()));
        }
        self.write(|w| insert_staff(w, &staff))?;
        Ok(staff)
    }

    /// Merges a duplicate member into the one kept: the duplicate redirects
    /// (its card number still finds the kept member) and leaves searches and
    /// lists. Both records and all events stay. The duplicate must have no
    /// open loans (return them first); the kept member's membership stands.
    pub fn merge_members(&mut self, keep: Uuid, duplicate: Uuid) -> Result<MemberView> {
        self.require(Permission::MergeRecords)?;
        if keep == duplicate {
            return Err(StoreError::InvalidInput("عضو تکراری و عضو ماندنی یکی هستند.".into()));
        }
        let kept = self.member(keep)?;
        let dup = self.member(duplicate)?;
        if kept.merged_into.is_some() || dup.merged_into.is_some() {
            return Err(StoreError::Conflict("یکی از این دو پرونده پیش‌تر ادغام شده است.".into()));
        }
        if !self.open_loans_of(duplicate)?.is_empty() {
            return Err(StoreError::Conflict(
                "پرونده تکراری کتاب در امانت دارد؛ ابتدا بازگشت آن‌ها را ثبت کنید، سپس ادغام کنید.".into(),
            ));
        }
        let clocks: String =
            self.conn
                .query_row("SELECT field_clocks FROM members WHERE id = ?1", [duplicate.to_string()], |r| r.get(0))?;
        let old_clocks = parse_clocks(&clocks)?;
        self.write(|w| {
            let fields = BTreeMap::from([("merged_into".to_owned(), serde_json::json!(keep))]);
            let (_, clocks) = w.patch(EntityKind::MEMBER, duplicate, fields, &old_clocks)?;
            w.tx.execute(
                "UPDATE members SET merged_into = ?2, field_clocks = ?3 WHERE id = ?1",
                params![duplicate.to_string(), keep.to_string(), serde_json::to_string(&clocks)?],
            )?;
            w.tx.execute(
                "INSERT INTO member_edits (member_id, field, old_value, new_value, staff_id, at) VALUES (?1, 'merged_into', NULL, ?2, ?3, ?4)",
                params![
                    duplicate.to_string(),
                    kept.member_number,
                    w.staff_id.map(|s| s.to_string()),
                    w.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                ],
            )?;
            Ok(())
        })?;
        self.member(keep)
    }

    /// Replaces the member's photo.
    pub fn set_member_photo(&mut self, member_id: Uuid, photo: Photo) -> Result<()> {
        self.require(Permission::RegisterMembers)?;
        self.member(member_id)?;
        self.write(|w| save_photo(w, member_id, &photo))
    }

    pub fn member_photo(&self, member_id: Uuid) -> Result<Option<Photo>> {
        self.signed()?;
        Ok(self
            .conn
            .query_row("SELECT mime, bytes FROM member_photos WHERE member_id = ?1", [member_id.to_string()], |r| {
                Ok(Photo { mime: r.get(0)?, bytes: r.get(1)? })
            })
            .optional()?)
    }

    // ------------------------------------------------------------ reads

    pub fn member(&self, id: Uuid) -> Result<MemberView> {
        self.signed()?;
        self.member_where("m.id = ?1", &id.to_string())?.ok_or_else(|| StoreError::NotFound("این عضو پیدا نشد.".into()))
    }

    /// The member a scanned or typed card number belongs to: a member
    /// number (check digit verified) or a card number from the old software.
    pub fn member_by_number(&self, input: &str) -> Result<MemberView> {
        self.signed()?;
        let digits: String = text::to_ascii_digits(input).chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return Err(StoreError::InvalidInput("شماره کارت عضویت را اسکن یا وارد کنید.".into()));
        }
        if let Ok(n) = MemberNumber::parse(&digits)
            && let Some(m) = self.member_where("m.member_number = ?1", n.as_str())?
        {
            return self.follow_merge(m);
        }
        if let Some(m) = self.member_where("m.legacy_number = ?1", &digits)? {
            return self.follow_merge(m);
        }
        match MemberNumber::parse(&digits) {
            Err(e) => Err(e.into()),
            Ok(_) => Err(StoreError::NotFound(format!(
                "عضوی با شماره کارت «{}» پیدا نشد.",
                text::to_persian_digits(&digits)
            ))),
        }
    }

    fn follow_merge(&self, m: MemberView) -> Result<MemberView> {
        match m.merged_into {
            Some(target) => self.member(target),
            None => Ok(m),
        }
    }

    fn member_where(&self, condition: &str, arg: &str) -> Result<Option<MemberView>> {
        let sql = format!(
            "SELECT m.id, m.member_number, m.legacy_number, m.first_name, m.last_name, m.father_name, m.gender,
                    m.birth_date, m.national_id, m.alt_id_kind, m.alt_id, m.school_grade, m.guardian_phone, m.address,
                    m.village, m.doc_photo, m.doc_birth_certificate, m.age_group_override, m.merged_into,
                    EXISTS (SELECT 1 FROM member_photos p WHERE p.member_id = m.id),
                    (SELECT max(ends_on) FROM memberships s WHERE s.member_id = m.id)
             FROM members m WHERE {condition}"
        );
        let row = self.conn.prepare_cached(&sql)?.query_row([arg], RawMember::from_row).optional()?;
        row.map(|r| r.into_view(self.today(), &self.reference()?.age_groups)).transpose()
    }

    fn members_with_national_id(&self, nid: &str) -> Result<Vec<MemberSummary>> {
        let mut stmt = self.conn.prepare_cached(&format!("{SUMMARY_SELECT} WHERE m.national_id = ?1"))?;
        let rows = stmt.query_map([nid], summary_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Finds members by member number, old card number, national id or any
    /// part of their names (prefix, whatever Arabic/Persian letters, digit
    /// scripts, ZWNJ or diacritics were typed), best matches first.
    pub fn find_members(&self, query: &str, limit: usize) -> Result<Vec<MemberSummary>> {
        self.signed()?;
        let digits: String = text::to_ascii_digits(query).chars().filter(|c| !c.is_whitespace()).collect();
        let mut out: Vec<MemberSummary> = Vec::new();
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            let nid = NationalId::parse(&digits).map(|n| n.as_str().to_owned()).unwrap_or_else(|_| digits.clone());
            let mut stmt = self.conn.prepare_cached(&format!(
                "{SUMMARY_SELECT} WHERE (m.member_number = ?1 OR m.legacy_number = ?1 OR m.national_id = ?2)
                 AND m.merged_into IS NULL"
            ))?;
            let exact = stmt.query_map(params![digits, nid], summary_from_row)?;
            out.extend(exact.collect::<rusqlite::Result<Vec<_>>>()?);
        }
        let Some(fts) = text::fts_query(query) else { return Ok(out) };
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SUMMARY_SELECT} JOIN (SELECT rowid, rank FROM member_search WHERE member_search MATCH ?1 ORDER BY rank LIMIT ?2) f
                 ON f.rowid = m.seq
             WHERE m.merged_into IS NULL ORDER BY f.rank"
        ))?;
        let hits = stmt.query_map(params![fts, limit as i64], summary_from_row)?;
        for h in hits {
            let h = h?;
            if !out.iter().any(|o| o.id == h.id) {
                out.push(h);
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// Members in Persian alphabetical order (last name, then first name).
    pub fn list_members(&self, offset: usize, limit: usize) -> Result<Vec<MemberSummary>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SUMMARY_SELECT} WHERE m.merged_into IS NULL ORDER BY m.sort_key, m.member_number LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt.query_map(params![limit as i64, offset as i64], summary_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The member's edits, newest first.
    pub fn member_edits(&self, member_id: Uuid) -> Result<Vec<MemberEdit>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.field, e.old_value, e.new_value, s.full_name, e.at FROM member_edits e
             LEFT JOIN staff s ON s.id = e.staff_id WHERE e.member_id = ?1 ORDER BY e.seq DESC",
        )?;
        let rows = stmt.query_map([member_id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?))
        })?;
        rows.map(|r| {
            let (field, old_value, new_value, staff, at): (String, Option<String>, Option<String>, _, String) = r?;
            // Dates are stored ISO; people read them Jalali.
            let shown = |v: Option<String>| {
                v.map(|v| match parse_date(&v) {
                    Ok(d) if field == "birth_date" => JalaliDate::from_gregorian(d).to_string(),
                    _ => v,
                })
            };
            Ok(MemberEdit {
                old_value: shown(old_value),
                new_value: shown(new_value),
                field,
                staff,
                at_jalali: jalali_datetime(&at),
            })
        })
        .collect()
    }

    /// The member's membership periods with their fee or exemption, newest
    /// first, voided ones marked (the id is what `void_event` takes).
    pub fn membership_periods(&self, member_id: Uuid) -> Result<Vec<MembershipPeriod>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.data, e.at, EXISTS (SELECT 1 FROM voided v WHERE v.event_id = e.id)
             FROM events e WHERE e.member_id = ?1 AND e.kind = 'membership' ORDER BY e.hlc DESC",
        )?;
        let rows = stmt.query_map([member_id.to_string()], |r| {
            Ok((uuid_column(r, 0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        })?;
        rows.map(|row| {
            let (period_id, data, at, voided) = row?;
            let Event::Membership { starts_on, ends_on, fee, .. } = serde_json::from_str(&data)? else {
                return Err(StoreError::Corrupt("رویداد عضویت".into()));
            };
            Ok(MembershipPeriod {
                period_id,
                starts_on_jalali: JalaliDate::from_gregorian(starts_on).to_string(),
                ends_on_jalali: JalaliDate::from_gregorian(ends_on).to_string(),
                fee,
                recorded_at_jalali: jalali_datetime(&at),
                voided,
            })
        })
        .collect()
    }

    pub fn member_card(&self, member_id: Uuid) -> Result<MemberCard> {
        self.signed()?;
        let m = self.member(member_id)?;
        Ok(MemberCard {
            member_number: m.member_number,
            full_name: m.full_name,
            father_name: m.details.father_name,
            center_name: self.id()?.center.name.clone(),
            expires_jalali: m.membership.ends_on_jalali,
            photo: self.member_photo(member_id)?,
        })
    }
}

/// Changes go to the member a duplicate was merged into, never the duplicate.
fn refuse_merged(m: &MemberView) -> Result<()> {
    match m.merged_into {
        Some(_) => {
            Err(StoreError::Conflict("این پرونده با پرونده دیگری ادغام شده است؛ پرونده اصلی عضو را باز کنید.".into()))
        }
        None => Ok(()),
    }
}

/// A field value as people read it in the edit history: text without JSON
/// quotes, no value as None.
fn plain_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(crate) fn jalali_datetime(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| kanoon_domain::jalali::format_tehran_datetime(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

const SUMMARY_SELECT: &str =
    "SELECT m.id, m.member_number, m.first_name || ' ' || m.last_name, m.father_name, m.national_id,
        (SELECT max(ends_on) FROM memberships s WHERE s.member_id = m.id) FROM members m";

fn summary_from_row(r: &Row<'_>) -> rusqlite::Result<MemberSummary> {
    let ends: Option<String> = r.get(5)?;
    let ends = ends.and_then(|e| parse_date(&e).ok());
    Ok(MemberSummary {
        id: uuid_column(r, 0)?,
        member_number: r.get(1)?,
        full_name: r.get(2)?,
        father_name: r.get(3)?,
        national_id: r.get(4)?,
        membership_ends_on: ends,
        membership_ends_jalali: ends.map(|d| JalaliDate::from_gregorian(d).to_string()),
    })
}

struct RawMember {
    id: String,
    member_number: String,
    legacy_number: Option<String>,
    first_name: String,
    last_name: String,
    father_name: String,
    gender: String,
    birth_date: Option<String>,
    national_id: Option<String>,
    alt_kind: Option<String>,
    alt_id: Option<String>,
    school_grade: Option<u8>,
    guardian_phone: Option<String>,
    address: String,
    village: Option<String>,
    doc_photo: bool,
    doc_birth: bool,
    age_group_override: Option<String>,
    merged_into: Option<String>,
    has_photo: bool,
    ends_on: Option<String>,
}

impl RawMember {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawMember {
            id: r.get(0)?,
            member_number: r.get(1)?,
            legacy_number: r.get(2)?,
            first_name: r.get(3)?,
            last_name: r.get(4)?,
            father_name: r.get(5)?,
            gender: r.get(6)?,
            birth_date: r.get(7)?,
            national_id: r.get(8)?,
            alt_kind: r.get(9)?,
            alt_id: r.get(10)?,
            school_grade: r.get(11)?,
            guardian_phone: r.get(12)?,
            address: r.get(13)?,
            village: r.get(14)?,
            doc_photo: r.get(15)?,
            doc_birth: r.get(16)?,
            age_group_override: r.get(17)?,
            merged_into: r.get(18)?,
            has_photo: r.get(19)?,
            ends_on: r.get(20)?,
        })
    }

    fn into_view(self, today: NaiveDate, groups: &[AgeGroup]) -> Result<MemberView> {
        let birth = self.birth_date.as_deref().map(parse_date).transpose()?;
        let ends_on = self.ends_on.as_deref().map(parse_date).transpose()?;
        let age_group = self.age_group_override.clone().or_else(|| {
            let age = age_group::reader_age(birth, self.school_grade, today)?;
            // The newer minimum-age scheme: the oldest group the reader has reached.
            groups
                .iter()
                .filter(|g| g.scheme == age_group::AgeScheme::MinimumAge && u32::from(g.min_age) <= age)
                .max_by_key(|g| g.min_age)
                .map(|g| g.code.clone())
        });
        Ok(MemberView {
            id: parse_uuid(&self.id)?,
            full_name: format!("{} {}", self.first_name, self.last_name),
            member_number: self.member_number,
            legacy_number: self.legacy_number,
            national_id: self.national_id.clone(),
            guardian_phone: self.guardian_phone.clone(),
            details: MemberDetails {
                first_name: self.first_name,
                last_name: self.last_name,
                father_name: self.father_name,
                gender: Gender::parse(&self.gender).unwrap_or(Gender::Female),
                birth_date: birth.map(JalaliDate::from_gregorian),
                national_id: self.national_id,
                alternative_id: match (self.alt_kind, self.alt_id) {
                    (Some(kind), Some(value)) => Some(AlternativeId { kind, value }),
                    _ => None,
                },
                school_grade: self.school_grade,
                guardian_phone: self.guardian_phone,
                address: self.address,
                village: self.village,
                documents: Documents { photo: self.doc_photo, birth_certificate_copy: self.doc_birth },
                age_group_override: self.age_group_override,
            },
            age_group,
            has_photo: self.has_photo,
            membership: MembershipState {
                ends_on,
                ends_on_jalali: ends_on.map(|d| JalaliDate::from_gregorian(d).to_string()),
                active: ends_on.is_some_and(|e| e >= today),
            },
            merged_into: self.merged_into.as_deref().map(parse_uuid).transpose()?,
        })
    }
}
