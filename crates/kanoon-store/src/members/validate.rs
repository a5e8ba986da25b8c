//! A member as typed, checked against the rules before anything is stored.

use super::*;

/// A validated member: what is stored.
pub(crate) struct ValidMember {
    pub(crate) details: MemberDetails,
    pub(crate) birth_date: Option<NaiveDate>,
    pub(crate) national_id: Option<NationalId>,
    pub(crate) guardian_phone: Option<Mobile>,
}

pub(super) fn non_empty(s: &str) -> Option<String> {
    let t = text::clean_text(s);
    (!t.is_empty()).then_some(t)
}

pub(crate) fn validate(
    mut d: MemberDetails,
    center_kind: CenterKind,
    groups: &[AgeGroup],
    today: NaiveDate,
) -> Result<ValidMember> {
    // One spelling on the card and in every list, whatever the keyboard.
    for f in [&mut d.first_name, &mut d.last_name, &mut d.father_name, &mut d.address] {
        *f = text::clean_text(f);
    }
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

impl ValidMember {
    /// The member record with these details; numbers, center and merge
    /// as given (a new member's, or the stored ones on an edit).
    pub(super) fn record(&self, member_number: String, legacy_number: Option<String>, center_id: Uuid) -> MemberRecord {
        let d = &self.details;
        MemberRecord {
            member_number,
            legacy_number,
            center_id,
            first_name: d.first_name.clone(),
            last_name: d.last_name.clone(),
            father_name: d.father_name.clone(),
            gender: d.gender,
            birth_date: self.birth_date,
            national_id: self.national_id.as_ref().map(|n| n.as_str().to_owned()),
            alternative_id: d.alternative_id.clone(),
            school_grade: d.school_grade,
            guardian_phone: self.guardian_phone.as_ref().map(|p| p.as_str().to_owned()),
            address: d.address.clone(),
            village: d.village.clone(),
            village_id: d.village_id,
            documents: d.documents,
            age_group_override: d.age_group_override.clone(),
            merged_into: None,
        }
    }
}
