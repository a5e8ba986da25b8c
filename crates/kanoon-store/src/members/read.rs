//! Members as the window shows them: by id or card number, search, lists,
//! history, membership periods, the card.

use super::*;

impl Desk {
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

    pub(super) fn follow_merge(&self, m: MemberView) -> Result<MemberView> {
        match m.merged_into {
            Some(target) => self.member(target),
            None => Ok(m),
        }
    }

    pub(super) fn member_where(&self, condition: &str, arg: &str) -> Result<Option<MemberView>> {
        let sql = format!(
            "SELECT m.id, m.member_number, m.legacy_number, m.first_name, m.last_name, m.father_name, m.gender,
                    m.birth_date, m.national_id, m.alt_id_kind, m.alt_id, m.school_grade, m.guardian_phone, m.address,
                    m.village, m.doc_photo, m.doc_birth_certificate, m.age_group_override, m.merged_into,
                    EXISTS (SELECT 1 FROM member_photos p WHERE p.member_id = m.id),
                    (SELECT max(ends_on) FROM memberships s WHERE s.member_id = m.id), m.village_id
             FROM members m WHERE {condition}"
        );
        let row = self.conn.prepare_cached(&sql)?.query_row([arg], RawMember::from_row).optional()?;
        row.map(|r| r.into_view(self.today(), &self.reference()?.age_groups)).transpose()
    }

    pub(super) fn member_summary(&self, id: Uuid) -> Result<MemberSummary> {
        let mut stmt = self.conn.prepare_cached(&format!("{SUMMARY_SELECT} WHERE m.id = ?1"))?;
        stmt.query_row([id.to_string()], summary_from_row)
            .optional()?
            .ok_or_else(|| StoreError::NotFound("این عضو پیدا نشد.".into()))
    }

    pub(super) fn members_with_national_id(&self, nid: &str) -> Result<Vec<MemberSummary>> {
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

pub(crate) fn jalali_datetime(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| kanoon_domain::jalali::format_tehran_datetime(t.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

pub(super) const SUMMARY_SELECT: &str =
    "SELECT m.id, m.member_number, m.first_name || ' ' || m.last_name, m.father_name, m.national_id,
        (SELECT max(ends_on) FROM memberships s WHERE s.member_id = m.id) FROM members m";

pub(super) fn summary_from_row(r: &Row<'_>) -> rusqlite::Result<MemberSummary> {
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

pub(super) struct RawMember {
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
    village_id: Option<String>,
}

impl RawMember {
    pub(super) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
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
            village_id: r.get(21)?,
        })
    }

    pub(super) fn into_view(self, today: NaiveDate, groups: &[AgeGroup]) -> Result<MemberView> {
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
                village_id: self.village_id.as_deref().map(parse_uuid).transpose()?,
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
