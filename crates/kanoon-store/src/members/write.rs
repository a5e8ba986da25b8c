//! Registering members, renewals, edits with history, merges and photos.

use super::*;

use kanoon_domain::settings::{FeeAction, FeeCampaign, FeeExemption};

pub(crate) struct NewMember<'a> {
    pub valid: &'a ValidMember,
    pub legacy_number: Option<&'a str>,
    pub photo: Option<&'a Photo>,
}

/// Allocates the next member number; the counter only ever grows.
pub(super) fn next_member_number(w: &mut Write<'_>) -> Result<MemberNumber> {
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
    let record = v.record(number.as_str().to_owned(), m.legacy_number.map(str::to_owned), w.center_id());
    w.save(id, &record, None)?;
    if let Some(p) = m.photo {
        save_photo(w, id, p)?;
    }
    Ok(id)
}

pub(super) fn save_photo(w: &mut Write<'_>, member_id: Uuid, p: &Photo) -> Result<()> {
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

/// A membership fee as the form gives it: paid elsewhere (a receipt
/// number of a bank slip or another book), paid here at this desk (no
/// receipt number: the cash book issues one), or exempt.
pub(crate) enum FeeSource {
    Ready(Fee),
    AtDesk { amount_rials: i64 },
}

/// `exemptions` and `campaigns` are what applies at this desk today
/// (`Desk::fee_exemptions`, the province's campaigns); a campaign's code is
/// accepted as an exemption only on its dates and for the action it waives.
pub(crate) fn fee_from_input(
    fee: FeeInput,
    exemptions: &[FeeExemption],
    campaigns: &[FeeCampaign],
    today: NaiveDate,
    action: FeeAction,
) -> Result<FeeSource> {
    match fee {
        FeeInput::Paid { amount_rials, receipt_number } => {
            let receipt_number = text::to_ascii_digits(receipt_number.trim());
            if amount_rials <= 0 {
                return Err(StoreError::InvalidInput(
                    "مبلغ پرداختی را به ریال وارد کنید، یا معافیت از پرداخت را با دلیل آن ثبت کنید.".into(),
                ));
            }
            if amount_rials > 10_000_000_000 {
                return Err(StoreError::InvalidInput("مبلغ حق عضویت بیش از اندازه است؛ دوباره بنویسید.".into()));
            }
            if receipt_number.is_empty() {
                return Ok(FeeSource::AtDesk { amount_rials });
            }
            Ok(FeeSource::Ready(Fee::Paid { amount_rials, receipt_number }))
        }
        FeeInput::Exempt { exemption, reason } => {
            if let Some(c) = campaigns.iter().find(|c| c.code == exemption) {
                if !c.covers(today, action) {
                    let what = match action {
                        FeeAction::Registration => "ثبت‌نام",
                        FeeAction::Renewal => "تمدید",
                    };
                    return Err(StoreError::InvalidInput(format!(
                        "طرح «{}» حق عضویت {what} را فقط از {} تا {} می‌بخشد؛ امروز حق عضویت را دریافت کنید یا معافیت دیگری انتخاب کنید.",
                        c.name,
                        JalaliDate::from_gregorian(c.from),
                        JalaliDate::from_gregorian(c.to)
                    )));
                }
                let reason = if reason.trim().is_empty() { c.name.clone() } else { reason.trim().to_owned() };
                return Ok(FeeSource::Ready(Fee::Exempt { exemption, reason }));
            }
            let known = exemptions.iter().any(|e| e.active && e.code == exemption);
            if !known {
                return Err(StoreError::InvalidInput(format!("معافیت «{exemption}» در سیاست‌های مرکز تعریف نشده است.")));
            }
            if reason.trim().is_empty() {
                return Err(StoreError::InvalidInput("دلیل معافیت از حق عضویت را بنویسید.".into()));
            }
            Ok(FeeSource::Ready(Fee::Exempt { exemption, reason: reason.trim().to_owned() }))
        }
    }
}

/// The fee of a membership period: a fee paid here is taken into the cash
/// book first (cash, on the signed-in staff member's day, which must be
/// open) and the period carries the receipt number the desk issued.
pub(crate) fn settle_fee(
    w: &mut Write<'_>,
    source: &FeeSource,
    member_id: Uuid,
    payer: &str,
    staff_name: &str,
) -> Result<Fee> {
    use crate::rows::cash::{self, CashData};
    use kanoon_domain::cashbook::{PaymentKind, PaymentMethod};
    let amount_rials = match source {
        FeeSource::Ready(fee) => return Ok(fee.clone()),
        FeeSource::AtDesk { amount_rials } => *amount_rials,
    };
    let today = w.today();
    if let Some(staff) = w.staff_id
        && cash::closing_of(&w.tx, staff, today)?.is_some()
    {
        return Err(kanoon_domain::DomainError::DayClosed(today).into());
    }
    let receipt = cash::next_receipt(&w.tx, w.identity.desk_number)?;
    let data = CashData {
        receipt,
        day: today,
        kind: PaymentKind::MembershipFee,
        method: PaymentMethod::Cash,
        pos_ref: None,
        amount_rials,
        payer: payer.to_owned(),
        member_id: Some(member_id),
        refund_of: None,
        reason: None,
        staff_name: Some(staff_name.to_owned()),
        workshop_id: None,
        participant_id: None,
    };
    let id = Uuid::now_v7();
    let stamp = w.service_event(kanoon_protocol::EntityKind::CASH, id, cash::PAYMENT, serde_json::to_value(&data)?)?;
    cash::insert_entry(&w.tx, id, false, &data, &stamp, &mut Vec::new())?;
    Ok(Fee::Paid { amount_rials, receipt_number: format!("{}-{}", receipt.desk, receipt.seq) })
}

impl Desk {
    /// The fee the form gives, checked against today's exemptions and campaigns.
    pub(super) fn fee_source(&self, fee: FeeInput, action: FeeAction) -> Result<FeeSource> {
        let exemptions = self.fee_exemptions()?;
        let reference = self.reference()?;
        fee_from_input(fee, &exemptions, &reference.settings.campaigns, self.today(), action)
    }

    /// Registers a member: record, documents, photo and the first
    /// membership period with its fee or exemption, in one transaction.
    pub fn register_member(&mut self, req: RegisterMember) -> Result<RegisterOutcome> {
        let staff_name = self.require(Permission::RegisterMembers)?.full_name.clone();
        // The membership period is dated by today: a wrong clock would date it wrong.
        self.check_clock()?;
        let kind = self.id()?.center.kind;
        let groups = self.reference()?.age_groups.clone();
        let mut details = req.details;
        self.name_village(&mut details)?;
        let valid = validate(details, kind, &groups, self.today())?;
        let fee = self.fee_source(req.fee, FeeAction::Registration)?;
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
            let payer = format!("{} {}", valid.details.first_name, valid.details.last_name);
            let fee = settle_fee(w, &fee, id, &payer, &staff_name)?;
            add_membership_period(w, id, start, end, fee)?;
            Ok(id)
        })?;
        Ok(RegisterOutcome::Registered { member: Box::new(self.member(id)?) })
    }

    /// A new membership period: from the day after the current one ends,
    /// or from today if it has already ended.
    pub fn renew_membership(&mut self, member_id: Uuid, fee: FeeInput) -> Result<MemberView> {
        let staff_name = self.require(Permission::RegisterMembers)?.full_name.clone();
        self.check_clock()?;
        let member = self.member(member_id)?;
        refuse_merged(&member)?;
        let fee = self.fee_source(fee, FeeAction::Renewal)?;
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
            let fee = settle_fee(w, &fee, member_id, &member.full_name, &staff_name)?;
            add_membership_period(w, member_id, start, end, fee)
        })?;
        self.member(member_id)
    }

    /// Changes a member's details; each changed field is kept in the history
    /// with its old value, and synced as one patch.
    pub fn edit_member(&mut self, member_id: Uuid, mut details: MemberDetails) -> Result<MemberView> {
        self.require(Permission::RegisterMembers)?;
        let kind = self.id()?.center.kind;
        let groups = self.reference()?.age_groups.clone();
        self.name_village(&mut details)?;
        let valid = validate(details, kind, &groups, self.today())?;
        let current = self.member(member_id)?;
        refuse_merged(&current)?;
        let (old, old_clocks) = rows::load_existing::<MemberRecord>(&self.conn, member_id, "این عضو پیدا نشد.")?;
        let record = valid.record(old.member_number.clone(), old.legacy_number.clone(), old.center_id);
        if record == old {
            return Ok(current);
        }
        self.write(|w| {
            let changed = w.save(member_id, &record, Some((&old, &old_clocks)))?;
            for c in &changed {
                record_edit(w, member_id, &c.field, plain_text(&c.old), plain_text(&c.new))?;
            }
            Ok(())
        })?;
        self.member(member_id)
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
        let (old, old_clocks) = rows::load_existing::<MemberRecord>(&self.conn, duplicate, "این عضو پیدا نشد.")?;
        let record = MemberRecord { merged_into: Some(keep), ..old.clone() };
        self.write(|w| {
            w.save(duplicate, &record, Some((&old, &old_clocks)))?;
            record_edit(w, duplicate, "merged_into", None, Some(kept.member_number.clone()))
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
}

/// Keeps a changed field in the member's edit history.
pub(super) fn record_edit(
    w: &Write<'_>,
    member_id: Uuid,
    field: &str,
    old: Option<String>,
    new: Option<String>,
) -> Result<()> {
    w.tx.execute(
        "INSERT INTO member_edits (member_id, field, old_value, new_value, staff_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![member_id.to_string(), field, old, new, w.staff_id.map(|s| s.to_string()), timestamp(w.now)],
    )?;
    Ok(())
}

/// Changes go to the member a duplicate was merged into, never the duplicate.
pub(super) fn refuse_merged(m: &MemberView) -> Result<()> {
    match m.merged_into {
        Some(_) => {
            Err(StoreError::Conflict("این پرونده با پرونده دیگری ادغام شده است؛ پرونده اصلی عضو را باز کنید.".into()))
        }
        None => Ok(()),
    }
}

/// A field value as people read it in the edit history: text without JSON
/// quotes, no value as None.
pub(super) fn plain_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
