//! Member rows: the record, its sort key and its search index entry. No
//! other module writes `members` or `member_search`.

use chrono::{DateTime, NaiveDate, Utc};
use kanoon_domain::entities::{AlternativeId, Documents, Gender};
use kanoon_domain::ids::NationalId;
use kanoon_domain::text;
use kanoon_protocol::EntityKind;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FieldClocks, Record, parse_clocks};
use crate::error::{Result, StoreError};
use crate::findings::{Finding, codes};
use crate::sql::{parse_date, parse_uuid, run, timestamp};

/// A member as its ops carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemberRecord {
    pub member_number: String,
    #[serde(default)]
    pub legacy_number: Option<String>,
    pub center_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub father_name: String,
    pub gender: Gender,
    #[serde(default)]
    pub birth_date: Option<NaiveDate>,
    /// Normalized (10 digits).
    #[serde(default)]
    pub national_id: Option<String>,
    #[serde(default)]
    pub alternative_id: Option<AlternativeId>,
    #[serde(default)]
    pub school_grade: Option<u8>,
    /// Normalized mobile number.
    #[serde(default)]
    pub guardian_phone: Option<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub village: Option<String>,
    /// One of the center's villages (`village` then holds its name).
    #[serde(default)]
    pub village_id: Option<Uuid>,
    #[serde(default)]
    pub documents: Documents,
    #[serde(default)]
    pub age_group_override: Option<String>,
    #[serde(default)]
    pub merged_into: Option<Uuid>,
}

impl Record for MemberRecord {
    const ENTITY: &'static str = EntityKind::MEMBER;
    const FIELDS: &'static [&'static str] = &[
        "member_number",
        "legacy_number",
        "center_id",
        "first_name",
        "last_name",
        "father_name",
        "gender",
        "birth_date",
        "national_id",
        "alternative_id",
        "school_grade",
        "guardian_phone",
        "address",
        "village",
        "village_id",
        "documents",
        "age_group_override",
        "merged_into",
    ];

    fn load(conn: &Connection, id: Uuid) -> Result<Option<(Self, FieldClocks)>> {
        let row = conn
            .prepare_cached(
                "SELECT member_number, legacy_number, center_id, first_name, last_name, father_name, gender,
                        birth_date, national_id, alt_id_kind, alt_id, school_grade, guardian_phone, address, village,
                        doc_photo, doc_birth_certificate, age_group_override, merged_into, field_clocks, village_id
                 FROM members WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                    (r.get::<_, String>(6)?, r.get::<_, Option<String>>(7)?, r.get(8)?, r.get(9)?, r.get(10)?),
                    (r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?, r.get(16)?, r.get(17)?),
                    (r.get::<_, Option<String>>(18)?, r.get::<_, String>(19)?, r.get::<_, Option<String>>(20)?),
                ))
            })
            .optional()?;
        let Some((
            (member_number, legacy_number, center_id, first_name, last_name, father_name),
            (gender, birth_date, national_id, alt_kind, alt_id),
            (school_grade, guardian_phone, address, village, doc_photo, doc_birth, age_group_override),
            (merged_into, clocks, village_id),
        )) = row
        else {
            return Ok(None);
        };
        let record = MemberRecord {
            member_number,
            legacy_number,
            center_id: parse_uuid(&center_id)?,
            first_name,
            last_name,
            father_name,
            gender: Gender::parse(&gender).ok_or_else(|| StoreError::Corrupt(format!("جنسیت «{gender}»")))?,
            birth_date: birth_date.as_deref().map(parse_date).transpose()?,
            national_id,
            alternative_id: match (alt_kind, alt_id) {
                (Some(kind), Some(value)) => Some(AlternativeId { kind, value }),
                _ => None,
            },
            school_grade,
            guardian_phone,
            address,
            village,
            village_id: village_id.as_deref().map(parse_uuid).transpose()?,
            documents: Documents { photo: doc_photo, birth_certificate_copy: doc_birth },
            age_group_override,
            merged_into: merged_into.as_deref().map(parse_uuid).transpose()?,
        };
        Ok(Some((record, parse_clocks(&clocks)?)))
    }

    fn store(conn: &Connection, id: Uuid, m: &Self, clocks: &FieldClocks, now: DateTime<Utc>) -> Result<()> {
        run(
            conn,
            "INSERT INTO members (id, center_id, member_number, legacy_number, first_name, last_name, father_name,
                 gender, birth_date, national_id, alt_id_kind, alt_id, school_grade, guardian_phone, address, village,
                 doc_photo, doc_birth_certificate, age_group_override, merged_into, sort_key, field_clocks, created_at,
                 village_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                 ?22, ?23, ?24)
             ON CONFLICT (id) DO UPDATE SET center_id = excluded.center_id, member_number = excluded.member_number,
                 legacy_number = excluded.legacy_number, first_name = excluded.first_name,
                 last_name = excluded.last_name, father_name = excluded.father_name, gender = excluded.gender,
                 birth_date = excluded.birth_date, national_id = excluded.national_id,
                 alt_id_kind = excluded.alt_id_kind, alt_id = excluded.alt_id, school_grade = excluded.school_grade,
                 guardian_phone = excluded.guardian_phone, address = excluded.address, village = excluded.village,
                 doc_photo = excluded.doc_photo, doc_birth_certificate = excluded.doc_birth_certificate,
                 age_group_override = excluded.age_group_override, merged_into = excluded.merged_into,
                 sort_key = excluded.sort_key, field_clocks = excluded.field_clocks, village_id = excluded.village_id",
            params![
                id.to_string(),
                m.center_id.to_string(),
                m.member_number,
                m.legacy_number,
                m.first_name,
                m.last_name,
                m.father_name,
                m.gender.as_str(),
                m.birth_date.map(|d| d.to_string()),
                m.national_id,
                m.alternative_id.as_ref().map(|a| a.kind.as_str()),
                m.alternative_id.as_ref().map(|a| a.value.as_str()),
                m.school_grade,
                m.guardian_phone,
                m.address,
                m.village,
                m.documents.photo,
                m.documents.birth_certificate_copy,
                m.age_group_override,
                m.merged_into.map(|u| u.to_string()),
                text::collation_key(&format!("{} {}", m.last_name, m.first_name)),
                serde_json::to_string(clocks)?,
                timestamp(now),
                m.village_id.map(|v| v.to_string()),
            ],
        )?;
        let seq: i64 =
            conn.prepare_cached("SELECT seq FROM members WHERE id = ?1")?.query_row([id.to_string()], |r| r.get(0))?;
        run(conn, "DELETE FROM member_search WHERE rowid = ?1", [seq])?;
        run(conn, "INSERT INTO member_search (rowid, text) VALUES (?1, ?2)", params![seq, m.search_text()])?;
        Ok(())
    }

    /// Two desks issuing one member number (the same desk number set up on
    /// two PCs): the record cannot be kept beside the other; it waits in
    /// the inbox, and staff are told.
    fn admit_pulled(conn: &Connection, id: Uuid, m: &Self, found: &mut Vec<Finding>) -> Result<bool> {
        let other: Option<String> = conn
            .prepare_cached("SELECT id FROM members WHERE member_number = ?1 AND id <> ?2")?
            .query_row(params![m.member_number, id.to_string()], |r| r.get(0))
            .optional()?;
        let Some(other) = other else { return Ok(true) };
        let other = parse_uuid(&other)?;
        found.push(Finding::new(
            codes::MEMBER_NUMBER_CLASH,
            &[id, other],
            serde_json::json!({"member_number": m.member_number, "member_ids": [other, id]}),
        ));
        Ok(false)
    }

    /// Members registered apart (two desks offline) with the national id
    /// this one carries: both are kept; staff decide whether to merge them.
    fn after_pulled(conn: &Connection, id: Uuid, m: &Self, found: &mut Vec<Finding>) -> Result<()> {
        let Some(national_id) = m.national_id.as_deref().filter(|_| m.merged_into.is_none()) else {
            return Ok(());
        };
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM members WHERE national_id = ?1 AND id <> ?2 AND merged_into IS NULL ORDER BY id",
        )?;
        let others = stmt.query_map(params![national_id, id.to_string()], |r| r.get::<_, String>(0))?;
        for other in others {
            let other = parse_uuid(&other?)?;
            found.push(Finding::new(
                codes::DUPLICATE_NATIONAL_ID,
                &[id, other],
                serde_json::json!({"national_id": national_id, "member_ids": [other, id]}),
            ));
        }
        Ok(())
    }
}

impl MemberRecord {
    /// What the member search index holds: names (words joined pairwise
    /// too) and the numbers people search by.
    fn search_text(&self) -> String {
        let national = self.national_id.as_deref().and_then(|n| NationalId::parse(n).ok());
        let mut s = text::index_name_text(&format!("{} {} {}", self.first_name, self.last_name, self.father_name));
        for extra in
            [Some(self.member_number.as_str()), self.legacy_number.as_deref(), national.as_ref().map(|n| n.as_str())]
                .into_iter()
                .flatten()
        {
            s.push(' ');
            s.push_str(&text::normalize_search(extra));
        }
        s
    }
}
