//! A whole school class registered at once from its roster (issue 14): the
//! van's or the post's instructor types or pastes the class into a grid,
//! picks the village and one fee decision for every child, and the class
//! is registered in one transaction — every row good, or nothing written
//! and every bad row named (the grid keeps what was typed).

use std::collections::HashMap;

use kanoon_domain::settings::FeeAction;

use super::write::settle_fee;
use super::*;

/// One child of the roster, as typed in the grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RosterRow {
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    /// None: not chosen yet (refused with the row's number).
    pub gender: Option<Gender>,
    pub birth_date: Option<JalaliDate>,
    pub national_id: Option<String>,
    pub guardian_phone: Option<String>,
}

/// A class to register: its village, its grade, the one fee decision for
/// every child (an exemption for the school, or the fee each pays), and
/// its children.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClassRoster {
    pub village_id: Uuid,
    pub school_grade: Option<u8>,
    pub fee: FeeInput,
    pub rows: Vec<RosterRow>,
}

/// A row that cannot be registered, by its number in the grid (from 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RosterRowError {
    pub row: u32,
    pub message: String,
}

/// What registering a class did: every member made, or (nothing written)
/// every bad row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RosterOutcome {
    pub registered: Vec<MemberSummary>,
    pub errors: Vec<RosterRowError>,
}

/// Most children in one roster (a class is 20–40; a whole small school fits).
pub const MAX_ROSTER_ROWS: usize = 300;

impl Desk {
    /// Registers a class: all its children, or none (`errors` then lists
    /// every row to correct). A child already a member (same national id)
    /// is an error of its row: remove the row, or renew that member.
    pub fn register_class(&mut self, roster: ClassRoster) -> Result<RosterOutcome> {
        let staff_name = self.require(Permission::RegisterMembers)?.full_name.clone();
        self.check_clock()?;
        if roster.rows.is_empty() {
            return Err(StoreError::InvalidInput("فهرست کلاس خالی است؛ دست‌کم نام یک کودک را وارد کنید.".into()));
        }
        if roster.rows.len() > MAX_ROSTER_ROWS {
            return Err(StoreError::InvalidInput(format!(
                "فهرست بیش از {} ردیف دارد؛ کلاس‌ها را جدا ثبت کنید.",
                text::to_persian_digits(&MAX_ROSTER_ROWS.to_string())
            )));
        }
        let kind = self.id()?.center.kind;
        let groups = self.reference()?.age_groups.clone();
        let fee = self.fee_source(roster.fee, FeeAction::Registration)?;
        let mut errors = Vec::new();
        let mut valid = Vec::with_capacity(roster.rows.len());
        let mut seen: HashMap<String, u32> = HashMap::new();
        for (i, row) in roster.rows.into_iter().enumerate() {
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let mut refuse = |message: String| errors.push(RosterRowError { row: number, message });
            let Some(gender) = row.gender else {
                refuse("جنسیت (دختر یا پسر) را انتخاب کنید.".into());
                continue;
            };
            let mut details = MemberDetails {
                father_name: row.father_name,
                birth_date: row.birth_date,
                national_id: row.national_id,
                school_grade: roster.school_grade,
                guardian_phone: row.guardian_phone,
                village_id: Some(roster.village_id),
                ..MemberDetails::named(&row.first_name, &row.last_name, gender)
            };
            self.name_village(&mut details)?;
            let member = match validate(details, kind, &groups, self.today()) {
                Ok(member) => member,
                Err(e) => {
                    refuse(e.to_string());
                    continue;
                }
            };
            if let Some(nid) = &member.national_id {
                if let Some(first) = seen.insert(nid.as_str().to_owned(), number) {
                    refuse(format!(
                        "کد ملی این ردیف با ردیف {} یکی است؛ یکی از دو ردیف را درست کنید.",
                        text::to_persian_digits(&first.to_string())
                    ));
                    continue;
                }
                if let Some(m) = self.members_with_national_id(nid.as_str())?.first() {
                    refuse(format!(
                        "«{}» با این کد ملی پیش‌تر عضو شده است (شماره عضویت {}); این ردیف را بردارید.",
                        m.full_name, m.member_number
                    ));
                    continue;
                }
            }
            valid.push(member);
        }
        if !errors.is_empty() {
            return Ok(RosterOutcome { registered: Vec::new(), errors });
        }
        let terms = self.membership_terms()?;
        let ids = self.write(|w| {
            let start = w.today();
            let end = start.checked_add_days(Days::new(u64::from(terms.period_days))).unwrap_or(start);
            let mut ids = Vec::with_capacity(valid.len());
            for member in &valid {
                let id = insert_member(w, NewMember { valid: member, legacy_number: None, photo: None })?;
                let payer = format!("{} {}", member.details.first_name, member.details.last_name);
                let fee = settle_fee(w, &fee, id, &payer, &staff_name)?;
                add_membership_period(w, id, start, end, fee)?;
                ids.push(id);
            }
            Ok(ids)
        })?;
        let registered = ids.into_iter().map(|id| self.member_summary(id)).collect::<Result<_>>()?;
        Ok(RosterOutcome { registered, errors })
    }
}

/// What tying typed village names to the village list did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VillageLinks {
    /// Members now tied to a village of the list.
    pub linked: u32,
    /// Typed names no village of the list carries, with how many members
    /// typed each: add the village (or correct the members), then run again.
    pub unmatched: Vec<UnmatchedVillage>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnmatchedVillage {
    pub name: String,
    pub members: u32,
}

impl Desk {
    /// Ties members whose village was typed by hand (before the center
    /// listed its villages, or on an older version) to the village of the
    /// list with the same name, whatever the spelling of ی/ك or spaces.
    /// Each tie is an ordinary member edit, synced; running it again ties
    /// nothing twice. The manager's, as the village list is.
    pub fn link_members_to_villages(&mut self) -> Result<VillageLinks> {
        self.require(Permission::PlanRoutes)?;
        self.require(Permission::RegisterMembers)?;
        let center = self.id()?.center.id;
        // Served villages only: a retired one may share its name with the
        // village that replaced it (two active ones never do).
        let villages: HashMap<String, (Uuid, String)> = rows::outreach::villages_of(&self.conn, center)?
            .into_iter()
            .filter(|(_, v)| !v.retired)
            .map(|(id, v)| (text::normalize_search(&v.name), (id, v.name)))
            .collect();
        let typed: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare(
                "SELECT id, village FROM members
                 WHERE village_id IS NULL AND village IS NOT NULL AND merged_into IS NULL AND center_id = ?1
                 ORDER BY seq",
            )?;
            let rows = stmt.query_map([center.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut ties = Vec::new();
        let mut unmatched: HashMap<String, (String, u32)> = HashMap::new();
        for (member, name) in typed {
            let key = text::normalize_search(&name);
            match villages.get(&key) {
                Some(v) => ties.push((parse_uuid(&member)?, v.clone())),
                None => unmatched.entry(key).or_insert_with(|| (name.clone(), 0)).1 += 1,
            }
        }
        let linked = u32::try_from(ties.len()).unwrap_or(u32::MAX);
        if !ties.is_empty() {
            self.write(|w| {
                for (member, (village_id, village_name)) in &ties {
                    let (old, clocks) = rows::load_existing::<MemberRecord>(&w.tx, *member, "این عضو پیدا نشد.")?;
                    let record = MemberRecord {
                        village_id: Some(*village_id),
                        village: Some(village_name.clone()),
                        ..old.clone()
                    };
                    w.save(*member, &record, Some((&old, &clocks)))?;
                }
                Ok(())
            })?;
        }
        let mut unmatched: Vec<UnmatchedVillage> =
            unmatched.into_values().map(|(name, members)| UnmatchedVillage { name, members }).collect();
        unmatched.sort_by(|a, b| b.members.cmp(&a.members).then_with(|| a.name.cmp(&b.name)));
        Ok(VillageLinks { linked, unmatched })
    }
}

/// A class list read from a file (CSV or XLSX, columns named as the
/// migration import knows them): rows for the grid, and the rows the file
/// could not give, by line. Nothing is written: staff check the grid and
/// register the class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RosterFile {
    pub rows: Vec<RosterRow>,
    pub errors: Vec<kanoon_import::RowError>,
}

impl Desk {
    /// Reads a class list into roster rows with the migration import's
    /// reader and its suggested column mapping.
    pub fn roster_from_file(&self, bytes: &[u8]) -> Result<RosterFile> {
        self.require(Permission::RegisterMembers)?;
        let rejected = |e: kanoon_import::ImportError| StoreError::ImportRejected(e.to_string());
        let table = kanoon_import::read_table(bytes).map_err(rejected)?;
        let mapping = kanoon_import::suggest_mapping(kanoon_import::ImportKind::Members, &table.headers);
        let parsed = kanoon_import::parse_members(&table, &mapping).map_err(rejected)?;
        if parsed.rows.len() > MAX_ROSTER_ROWS {
            return Err(StoreError::InvalidInput(format!(
                "پرونده بیش از {} ردیف دارد؛ کلاس‌ها را در پرونده‌های جدا بخوانید.",
                text::to_persian_digits(&MAX_ROSTER_ROWS.to_string())
            )));
        }
        let rows = parsed
            .rows
            .into_iter()
            .map(|(_, r)| RosterRow {
                first_name: r.first_name,
                last_name: r.last_name,
                father_name: r.father_name,
                gender: r.gender,
                birth_date: r.birth_date.map(JalaliDate::from_gregorian),
                national_id: r.national_id.map(|n| n.as_str().to_owned()),
                guardian_phone: r.guardian_phone.map(|m| m.as_str().to_owned()),
            })
            .collect();
        Ok(RosterFile { rows, errors: parsed.errors })
    }
}
