//! Migration import: a center's members, titles with copies and open loans
//! from the software it used before. `kanoon-import` reads the file and
//! checks each row on its own; this module checks rows against the
//! database (duplicates, unknown members or copies) and commits all or
//! nothing.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use kanoon_domain::circulation::Fee;
use kanoon_domain::entities::{AlternativeId, Documents, Permission};
use kanoon_domain::jalali::JalaliDate;
pub use kanoon_import::{ColumnMapping, Field, ImportKind, RowError, suggest_mapping};
use kanoon_import::{MemberRow, OpenLoanRow, Parsed, SourceInfo, Table, TitleCopyRow};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::{TitleInput, insert_copy, insert_title};
use crate::circulation::record_loan;
use crate::desk::{Desk, Write};
use crate::error::{Result, StoreError};
use crate::members::{MemberDetails, NewMember, ValidMember, add_membership_period, insert_member, validate};
use crate::rows::copy::active_with_number as active_copy_with_number;
use crate::sql::parse_uuid;

/// The exemption code recorded on membership periods moved in from the
/// previous software (their fee was paid there).
pub const MIGRATED_EXEMPTION: &str = "migrated";

/// What the user sees after choosing a file: its columns and a suggested
/// mapping for each kind of import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportPreview {
    pub source: SourceInfo,
    pub headers: Vec<String>,
    /// The first rows as read, to help map columns.
    pub sample: Vec<Vec<String>>,
    pub rows: usize,
    pub suggested: BTreeMap<String, ColumnMapping>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportCounts {
    pub members: usize,
    pub titles: usize,
    pub copies: usize,
    pub loans: usize,
}

/// The outcome of a dry run or a commit: every bad row, and what was (or
/// would be) created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub kind: ImportKind,
    pub rows: usize,
    pub errors: Vec<RowError>,
    pub counts: ImportCounts,
    pub committed: bool,
}

impl ImportReport {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

fn import_err(e: kanoon_import::ImportError) -> StoreError {
    StoreError::ImportRejected(e.to_string())
}

fn row_error(line: usize, field: Field, value: &str, message: String) -> RowError {
    RowError { line, column: None, field: Some(field), value: value.to_owned(), message }
}

/// A member row ready to write: details, old card number, membership period.
struct PlannedMember {
    valid: ValidMember,
    legacy_number: Option<String>,
    period: Option<(NaiveDate, NaiveDate)>,
}

/// A checked plan: rows ready to write, built without writing.
enum Plan {
    Members(Vec<PlannedMember>),
    Titles(Vec<(TitleInput, Vec<String>)>),
    Loans(Vec<(Uuid, Uuid, NaiveDate, NaiveDate)>),
}

impl Desk {
    /// Reads a file's table and suggests mappings for every kind.
    pub fn import_preview(&self, bytes: &[u8]) -> Result<ImportPreview> {
        self.signed()?;
        let table = kanoon_import::read_table(bytes).map_err(import_err)?;
        let suggested = [ImportKind::Members, ImportKind::TitlesCopies, ImportKind::OpenLoans]
            .into_iter()
            .map(|k| (kind_key(k).to_owned(), suggest_mapping(k, &table.headers)))
            .collect();
        Ok(ImportPreview {
            sample: table.rows.iter().take(5).map(|r| r.cells.clone()).collect(),
            rows: table.rows.len(),
            headers: table.headers,
            source: table.source,
            suggested,
        })
    }

    /// Checks every row (on its own and against the database) and reports
    /// every problem; writes nothing.
    pub fn import_dry_run(&self, kind: ImportKind, bytes: &[u8], mapping: &ColumnMapping) -> Result<ImportReport> {
        self.signed()?;
        let table = kanoon_import::read_table(bytes).map_err(import_err)?;
        let (report, _) = self.plan(kind, &table, mapping)?;
        Ok(report)
    }

    /// Commits the import in one transaction if, and only if, every row is
    /// good; otherwise nothing is written and the report lists every bad row.
    pub fn import_commit(&mut self, kind: ImportKind, bytes: &[u8], mapping: &ColumnMapping) -> Result<ImportReport> {
        self.require(Permission::ImportData)?;
        self.check_clock()?;
        let table = kanoon_import::read_table(bytes).map_err(import_err)?;
        let (mut report, plan) = self.plan(kind, &table, mapping)?;
        if !report.is_clean() {
            return Ok(report);
        }
        let terms = self.membership_terms()?;
        self.write(|w| write_plan(w, plan, terms.period_days))?;
        report.committed = true;
        Ok(report)
    }

    fn plan(&self, kind: ImportKind, table: &Table, mapping: &ColumnMapping) -> Result<(ImportReport, Plan)> {
        let (counts, errors, plan, rows) = match kind {
            ImportKind::Members => {
                let parsed = kanoon_import::parse_members(table, mapping).map_err(import_err)?;
                self.plan_members(parsed)?
            }
            ImportKind::TitlesCopies => {
                let parsed = kanoon_import::parse_titles_copies(table, mapping).map_err(import_err)?;
                self.plan_titles(parsed)?
            }
            ImportKind::OpenLoans => {
                let parsed = kanoon_import::parse_open_loans(table, mapping).map_err(import_err)?;
                self.plan_loans(parsed)?
            }
        };
        let mut errors = errors;
        errors.sort_by_key(|e| e.line);
        Ok((ImportReport { kind, rows, errors, counts, committed: false }, plan))
    }

    fn plan_members(&self, parsed: Parsed<MemberRow>) -> Result<(ImportCounts, Vec<RowError>, Plan, usize)> {
        let kind = self.id()?.center.kind;
        let groups = self.age_groups()?;
        let rows = parsed.rows.len() + parsed.errors.len();
        let mut errors = parsed.errors;
        let mut plan = Vec::with_capacity(parsed.rows.len());
        for (line, row) in parsed.rows {
            let Some(gender) = row.gender else {
                errors.push(row_error(line, Field::Gender, "", "جنسیت عضو (دختر یا پسر) را در پرونده بنویسید.".into()));
                continue;
            };
            if let Some(nid) = &row.national_id
                && exists(&self.conn, "SELECT 1 FROM members WHERE national_id = ?1", nid.as_str())?
            {
                errors.push(row_error(
                    line,
                    Field::NationalId,
                    nid.as_str(),
                    "عضوی با این کد ملی پیش‌تر در این مرکز ثبت شده است؛ این ردیف را از پرونده حذف کنید.".into(),
                ));
                continue;
            }
            if let Some(n) = &row.legacy_number
                && exists(&self.conn, "SELECT 1 FROM members WHERE legacy_number = ?1 OR member_number = ?1", n)?
            {
                errors.push(row_error(
                    line,
                    Field::MemberNumber,
                    n,
                    "این شماره عضویت پیش‌تر وارد شده است؛ شاید این پرونده یک بار دیگر وارد شده باشد.".into(),
                ));
                continue;
            }
            let details = MemberDetails {
                first_name: row.first_name,
                last_name: row.last_name,
                father_name: row.father_name,
                gender,
                birth_date: row.birth_date.map(JalaliDate::from_gregorian),
                national_id: row.national_id.map(|n| n.as_str().to_owned()),
                alternative_id: row.alt_id.map(|(kind, value)| AlternativeId { kind, value }),
                school_grade: row.school_grade,
                guardian_phone: row.guardian_phone.map(|m| m.as_str().to_owned()),
                address: row.address,
                village: row.village,
                village_id: None,
                documents: Documents::default(),
                age_group_override: None,
            };
            match validate(details, kind, &groups, self.today()) {
                Ok(valid) => {
                    let period = row.membership_expires.map(|end| {
                        let start = row
                            .joined_on
                            .filter(|j| *j <= end)
                            .unwrap_or_else(|| end.checked_sub_days(Days::new(365)).unwrap_or(end));
                        (start, end)
                    });
                    plan.push(PlannedMember { valid, legacy_number: row.legacy_number, period });
                }
                Err(e) => errors.push(RowError {
                    line,
                    column: None,
                    field: None,
                    value: String::new(),
                    message: e.to_string(),
                }),
            }
        }
        let counts = ImportCounts { members: plan.len(), ..ImportCounts::default() };
        Ok((counts, errors, Plan::Members(plan), rows))
    }

    fn plan_titles(&self, parsed: Parsed<TitleCopyRow>) -> Result<(ImportCounts, Vec<RowError>, Plan, usize)> {
        let center = self.id()?.center.id;
        let rows = parsed.rows.len() + parsed.errors.len();
        let mut errors = parsed.errors;
        // Rows of the same book (title, author, publisher, year) become one
        // title with several copies.
        let mut titles: Vec<(TitleInput, Vec<String>)> = Vec::new();
        let mut index: HashMap<(String, String, String, Option<i32>), usize> = HashMap::new();
        for (line, row) in parsed.rows {
            if active_copy_with_number(&self.conn, center, &row.registration_number)?.is_some() {
                errors.push(row_error(
                    line,
                    Field::RegistrationNumber,
                    &row.registration_number,
                    "نسخه‌ای با این شماره ثبت پیش‌تر در این مرکز ثبت شده است.".into(),
                ));
                continue;
            }
            let d = &row.details;
            let key = (d.title.clone(), d.author.clone(), d.publisher.clone(), d.year);
            let at = *index.entry(key).or_insert_with(|| {
                titles.push((row.details.clone(), Vec::new()));
                titles.len() - 1
            });
            titles[at].1.push(row.registration_number);
        }
        let counts = ImportCounts {
            titles: titles.len(),
            copies: titles.iter().map(|(_, c)| c.len()).sum(),
            ..ImportCounts::default()
        };
        Ok((counts, errors, Plan::Titles(titles), rows))
    }

    fn plan_loans(&self, parsed: Parsed<OpenLoanRow>) -> Result<(ImportCounts, Vec<RowError>, Plan, usize)> {
        let center = self.id()?.center.id;
        let policy = self.policy()?;
        let loan_days = policy.rule_for(self.id()?.center.kind).loan_days;
        let rows = parsed.rows.len() + parsed.errors.len();
        let mut errors = parsed.errors;
        let mut plan = Vec::with_capacity(parsed.rows.len());
        for (line, row) in parsed.rows {
            let member: Option<String> = self
                .conn
                .prepare_cached("SELECT id FROM members WHERE legacy_number = ?1 OR member_number = ?1 LIMIT 1")?
                .query_row([&row.member_number], |r| r.get(0))
                .optional()?;
            let Some(member) = member else {
                errors.push(row_error(
                    line,
                    Field::LoanMemberNumber,
                    &row.member_number,
                    "عضوی با این شماره نیست؛ ابتدا پرونده اعضا را وارد کنید.".into(),
                ));
                continue;
            };
            let Some(copy) = active_copy_with_number(&self.conn, center, &row.registration_number)? else {
                errors.push(row_error(
                    line,
                    Field::LoanRegistrationNumber,
                    &row.registration_number,
                    "کتابی با این شماره ثبت نیست؛ ابتدا پرونده کتاب‌ها را وارد کنید.".into(),
                ));
                continue;
            };
            if exists(&self.conn, "SELECT 1 FROM open_loans WHERE copy_id = ?1", &copy.to_string())? {
                errors.push(row_error(
                    line,
                    Field::LoanRegistrationNumber,
                    &row.registration_number,
                    "این کتاب هم‌اکنون در امانت ثبت شده است.".into(),
                ));
                continue;
            }
            let due = row.due_on.unwrap_or_else(|| policy.closed.due_date(row.loaned_on, loan_days));
            plan.push((parse_uuid(&member)?, copy, row.loaned_on, due));
        }
        let counts = ImportCounts { loans: plan.len(), ..ImportCounts::default() };
        Ok((counts, errors, Plan::Loans(plan), rows))
    }
}

fn write_plan(w: &mut Write<'_>, plan: Plan, period_days: u32) -> Result<()> {
    match plan {
        Plan::Members(members) => {
            for PlannedMember { valid, legacy_number, period } in members {
                let id = insert_member(
                    w,
                    NewMember { valid: &valid, legacy_number: legacy_number.as_deref(), photo: None },
                )?;
                if let Some((start, end)) = period {
                    add_membership_period(w, id, start, end, migrated_fee())?;
                } else {
                    // No expiry in the old software: a period from today.
                    let today = w.today();
                    let end = today.checked_add_days(Days::new(u64::from(period_days))).unwrap_or(today);
                    add_membership_period(w, id, today, end, migrated_fee())?;
                }
            }
        }
        Plan::Titles(titles) => {
            for (title, numbers) in titles {
                let id = insert_title(w, &title)?;
                for n in numbers {
                    insert_copy(w, id, &n)?;
                }
            }
        }
        Plan::Loans(loans) => {
            for (member, copy, lent_on, due_on) in loans {
                record_loan(w, copy, member, lent_on, due_on, None, None)?;
            }
        }
    }
    Ok(())
}

fn migrated_fee() -> Fee {
    Fee::Exempt {
        exemption: MIGRATED_EXEMPTION.into(), reason: "عضویت منتقل‌شده از نرم‌افزار پیشین".into()
    }
}

fn exists(conn: &Connection, sql: &str, arg: &str) -> Result<bool> {
    Ok(conn.prepare_cached(sql)?.query_row(params![arg], |_| Ok(())).optional()?.is_some())
}

fn kind_key(k: ImportKind) -> &'static str {
    match k {
        ImportKind::Members => "members",
        ImportKind::TitlesCopies => "titles_copies",
        ImportKind::OpenLoans => "open_loans",
    }
}
