//! Turning mapped table rows into typed rows, with a Persian error for every
//! bad row.

use std::collections::HashMap;

use chrono::NaiveDate;
use kanoon_domain::entities::{Gender, TitleDetails, normalize_registration_number};
use kanoon_domain::ids::{Mobile, NationalId};
use serde::{Deserialize, Serialize};

use crate::cells::{parse_age_group, parse_date_cell, parse_grade, parse_isbn, parse_year};
use crate::error::ImportError;
use crate::mapping::{ColumnMapping, Field, ImportKind};
use crate::table::{SourceRow, Table};
use crate::text::{clean_text, compact_digits, persian_number};

/// What is wrong with one cell or row of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RowError {
    /// The row number as the user sees it (see [`SourceRow::line`]).
    pub line: usize,
    /// The header text of the offending column (or «ستون n» when the header
    /// is empty); `None` when the problem is the row as a whole.
    pub column: Option<String>,
    /// The field the column is mapped to, when there is one.
    pub field: Option<Field>,
    /// The offending value as written (empty when a required value is
    /// missing).
    pub value: String,
    /// Persian: what is wrong and what to do.
    pub message: String,
}

/// The outcome of parsing a table: the good rows and an error for every
/// problem found. A row with any error is left out of `rows`; a row may have
/// several errors (one per problem), all listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Parsed<T> {
    /// Good rows in file order, each with its line (see [`SourceRow::line`]).
    pub rows: Vec<(usize, T)>,
    /// Errors in file order.
    pub errors: Vec<RowError>,
}

/// A member as read from the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberRow {
    /// Card number in the software used before (spaces removed, ASCII digits).
    pub legacy_number: Option<String>,
    /// نام
    pub first_name: String,
    /// نام خانوادگی
    pub last_name: String,
    /// نام پدر ("" when not given).
    pub father_name: String,
    /// جنسیت
    pub gender: Option<Gender>,
    /// تاریخ تولد
    pub birth_date: Option<NaiveDate>,
    /// کد ملی; when `None`, `alt_id` is `Some`.
    pub national_id: Option<NationalId>,
    /// (kind, value) of an alternative id; kind is «سایر» when not given.
    pub alt_id: Option<(String, String)>,
    /// 0 (پیش‌دبستانی) ..= 12
    pub school_grade: Option<u8>,
    /// تلفن همراه ولی
    pub guardian_phone: Option<Mobile>,
    /// نشانی ("" when not given).
    pub address: String,
    /// روستا
    pub village: Option<String>,
    /// تاریخ عضویت
    pub joined_on: Option<NaiveDate>,
    /// End of the membership as recorded by the software used before.
    pub membership_expires: Option<NaiveDate>,
}

/// A copy with its title's details, as read from the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TitleCopyRow {
    /// شماره ثبت (normalized: ASCII digits, no spaces).
    pub registration_number: String,
    /// The title's details (ISBN checksum verified).
    pub details: TitleDetails,
}

/// A copy out on loan at the time of the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenLoanRow {
    /// The borrower's member number in the software used before.
    pub member_number: String,
    /// The copy's registration number (normalized).
    pub registration_number: String,
    /// تاریخ امانت
    pub loaned_on: NaiveDate,
    /// تاریخ بازگشت, when the file has it.
    pub due_on: Option<NaiveDate>,
}

/// The alternative-id kind used when the file gives a value but no kind.
pub const DEFAULT_ALT_ID_KIND: &str = "سایر";

/// Parses a members table.
///
/// Each row needs a first and last name (from their columns, or from the
/// `FullName` column split at the first space when either is empty), and a
/// valid national id or an alternative id. A malformed national id, gender,
/// date, grade or guardian mobile is an error even when the rest is fine. A
/// national id, legacy member number or alternative id seen on an earlier
/// row is an error on the later row, naming the earlier line.
///
/// `Err` only when the mapping is unusable ([`ColumnMapping::validate`]).
pub fn parse_members(t: &Table, m: &ColumnMapping) -> Result<Parsed<MemberRow>, ImportError> {
    let mut seen_nid: HashMap<String, usize> = HashMap::new();
    let mut seen_legacy: HashMap<String, usize> = HashMap::new();
    let mut seen_alt: HashMap<(String, String), usize> = HashMap::new();
    parse_rows(t, m, ImportKind::Members, |r| {
        let line = r.line();

        let legacy_raw = r.text(Field::MemberNumber);
        let legacy_number = Some(normalize_registration_number(legacy_raw)).filter(|s| !s.is_empty());
        if let Some(n) = &legacy_number
            && let Some(prev) = first_seen(&mut seen_legacy, n.clone(), line)
        {
            r.error(
                Field::MemberNumber,
                legacy_raw,
                format!(
                    "شماره عضویت تکراری است: سطر {} هم همین شماره را دارد؛ یکی از دو سطر را اصلاح یا حذف کنید.",
                    persian_number(prev)
                ),
            );
        }

        let (first_name, last_name) = member_names(r);

        let father_name = clean_text(r.text(Field::FatherName));

        let gender_raw = r.text(Field::Gender);
        let gender = if gender_raw.is_empty() {
            None
        } else {
            let g = Gender::parse(&clean_text(gender_raw));
            if g.is_none() {
                r.error(
                    Field::Gender,
                    gender_raw,
                    format!("جنسیت «{gender_raw}» شناخته نشد؛ «دختر» یا «پسر» بنویسید."),
                );
            }
            g
        };

        let birth_date = r.date(Field::BirthDate);

        let nid_raw = r.text(Field::NationalId);
        let national_id = if nid_raw.is_empty() {
            None
        } else {
            match NationalId::parse(nid_raw) {
                Ok(id) => {
                    if let Some(prev) = first_seen(&mut seen_nid, id.as_str().to_owned(), line) {
                        r.error(
                            Field::NationalId,
                            nid_raw,
                            format!(
                                "کد ملی تکراری است: سطر {} هم همین کد ملی را دارد؛ یک عضو فقط یک بار ثبت می‌شود، یکی از دو سطر را اصلاح یا حذف کنید.",
                                persian_number(prev)
                            ),
                        );
                    }
                    Some(id)
                }
                Err(e) => {
                    r.error(Field::NationalId, nid_raw, e.to_string());
                    None
                }
            }
        };

        let alt_raw = r.text(Field::AltId);
        let alt_value = clean_text(alt_raw);
        let alt_id = if alt_value.is_empty() {
            None
        } else {
            let kind = Some(clean_text(r.text(Field::AltIdKind)))
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| DEFAULT_ALT_ID_KIND.to_owned());
            let key = (kind.clone(), compact_digits(&alt_value));
            if let Some(prev) = first_seen(&mut seen_alt, key, line) {
                r.error(
                    Field::AltId,
                    alt_raw,
                    format!(
                        "شناسه جایگزین تکراری است: سطر {} هم همین شناسه را دارد؛ یکی از دو سطر را اصلاح یا حذف کنید.",
                        persian_number(prev)
                    ),
                );
            }
            Some((kind, alt_value))
        };
        if nid_raw.is_empty() && alt_id.is_none() {
            let field = if r.mapped(Field::NationalId) { Field::NationalId } else { Field::AltId };
            r.error(
                field,
                "",
                "کد ملی یا شناسه جایگزین لازم است؛ کد ملی ده‌رقمی عضو را بنویسید، یا برای کسی که کد ملی ندارد نوع و شماره مدرک (مثلاً کارت آمایش) را در ستون شناسه جایگزین."
                    .to_owned(),
            );
        }

        let grade_raw = r.text(Field::SchoolGrade);
        let school_grade = if grade_raw.is_empty() {
            None
        } else {
            match parse_grade(grade_raw) {
                Ok(g) => Some(g),
                Err(msg) => {
                    r.error(Field::SchoolGrade, grade_raw, msg);
                    None
                }
            }
        };

        let phone_raw = r.text(Field::GuardianPhone);
        let guardian_phone = if phone_raw.is_empty() {
            None
        } else {
            match Mobile::parse(phone_raw) {
                Ok(p) => Some(p),
                Err(e) => {
                    r.error(Field::GuardianPhone, phone_raw, e.to_string());
                    None
                }
            }
        };

        let address = clean_text(r.text(Field::Address));
        let village = Some(clean_text(r.text(Field::Village))).filter(|v| !v.is_empty());
        let joined_on = r.date(Field::JoinedOn);
        let membership_expires = r.date(Field::MembershipExpires);

        Some(MemberRow {
            legacy_number,
            first_name: first_name?,
            last_name: last_name?,
            father_name,
            gender,
            birth_date: birth_date.ok()?,
            national_id,
            alt_id,
            school_grade,
            guardian_phone,
            address,
            village,
            joined_on: joined_on.ok()?,
            membership_expires: membership_expires.ok()?,
        })
    })
}

/// Parses a titles-and-copies table (one row per copy). Each row needs a
/// registration number and a title; a registration number seen on an
/// earlier row is an error naming that line. A year, ISBN or age group that
/// is present but not valid is an error.
///
/// `Err` only when the mapping is unusable ([`ColumnMapping::validate`]).
pub fn parse_titles_copies(t: &Table, m: &ColumnMapping) -> Result<Parsed<TitleCopyRow>, ImportError> {
    let mut seen_reg: HashMap<String, usize> = HashMap::new();
    parse_rows(t, m, ImportKind::TitlesCopies, |r| {
        let line = r.line();
        let registration_number = r.registration_number(Field::RegistrationNumber);
        if let Some(reg) = &registration_number
            && let Some(prev) = first_seen(&mut seen_reg, reg.clone(), line)
        {
            let raw = r.text(Field::RegistrationNumber);
            r.error(
                Field::RegistrationNumber,
                raw,
                format!(
                    "شماره ثبت تکراری است: سطر {} هم همین شماره ثبت را دارد؛ هر نسخه شماره ثبت خودش را دارد، شماره درست را از روی کتاب بنویسید.",
                    persian_number(prev)
                ),
            );
        }

        let title = clean_text(r.text(Field::Title));
        if title.is_empty() {
            r.error(Field::Title, "", "عنوان کتاب خالی است؛ عنوان را از روی کتاب بنویسید.".to_owned());
        }

        let year_raw = r.text(Field::Year);
        let year = if year_raw.is_empty() {
            Ok(None)
        } else {
            parse_year(year_raw).map(Some).map_err(|msg| r.error(Field::Year, year_raw, msg))
        };

        let isbn_raw = r.text(Field::Isbn);
        let isbn = if isbn_raw.is_empty() {
            Ok(String::new())
        } else {
            parse_isbn(isbn_raw).map_err(|msg| r.error(Field::Isbn, isbn_raw, msg))
        };

        let age_raw = r.text(Field::AgeGroup);
        let age_group = if age_raw.is_empty() {
            Ok(None)
        } else {
            parse_age_group(age_raw).map(Some).map_err(|msg| r.error(Field::AgeGroup, age_raw, msg))
        };

        Some(TitleCopyRow {
            registration_number: registration_number?,
            details: TitleDetails {
                title,
                author: clean_text(r.text(Field::Author)),
                translator: clean_text(r.text(Field::Translator)),
                illustrator: clean_text(r.text(Field::Illustrator)),
                publisher: clean_text(r.text(Field::Publisher)),
                year: year.ok()?,
                isbn: isbn.ok()?,
                age_group: age_group.ok()?,
                subjects: clean_text(r.text(Field::Subjects)),
            },
        })
    })
}

/// Parses an open-loans table. Each row needs a member number, a
/// registration number and the loan date; the due date is optional but may
/// not be before the loan date. The same registration number on two rows is
/// an error on the later one (a copy is with one member at a time), naming
/// the earlier line.
///
/// `Err` only when the mapping is unusable ([`ColumnMapping::validate`]).
pub fn parse_open_loans(t: &Table, m: &ColumnMapping) -> Result<Parsed<OpenLoanRow>, ImportError> {
    let mut seen_reg: HashMap<String, (usize, String)> = HashMap::new();
    parse_rows(t, m, ImportKind::OpenLoans, |r| {
        let line = r.line();
        let member_number = r.required_number(
            Field::LoanMemberNumber,
            "شماره عضویت امانت‌گیرنده خالی است؛ شماره عضویت را از روی کارت یا فهرست اعضا بنویسید.",
        );
        let registration_number = r.registration_number(Field::LoanRegistrationNumber);
        if let Some(reg) = &registration_number {
            let member = member_number.clone().unwrap_or_default();
            match seen_reg.get(reg) {
                Some((prev, prev_member)) => {
                    let msg = if *prev_member == member {
                        format!(
                            "این امانت تکراری است: سطر {} هم همین کتاب را برای همین عضو دارد؛ یکی از دو سطر را حذف کنید.",
                            persian_number(*prev)
                        )
                    } else {
                        format!(
                            "این نسخه در سطر {} به عضو «{}» امانت داده شده است؛ هر نسخه در یک زمان فقط نزد یک عضو است، سطر درست را نگه دارید.",
                            persian_number(*prev),
                            prev_member
                        )
                    };
                    let raw = r.text(Field::LoanRegistrationNumber);
                    r.error(Field::LoanRegistrationNumber, raw, msg);
                }
                None => {
                    seen_reg.insert(reg.clone(), (line, member));
                }
            }
        }

        let loaned_raw = r.text(Field::LoanedOn);
        let loaned_on = if loaned_raw.is_empty() {
            r.error(Field::LoanedOn, "", "تاریخ امانت خالی است؛ تاریخ امانت را به شکل ۱۴۰۴/۰۱/۱۵ بنویسید.".to_owned());
            None
        } else {
            r.date(Field::LoanedOn).ok().flatten()
        };
        let due_on = r.date(Field::DueOn);
        if let (Some(loaned), Ok(Some(due))) = (loaned_on, &due_on)
            && *due < loaned
        {
            let raw = r.text(Field::DueOn);
            r.error(Field::DueOn, raw, "تاریخ بازگشت پیش از تاریخ امانت است؛ دو تاریخ را با هم بررسی کنید.".to_owned());
        }

        Some(OpenLoanRow {
            member_number: member_number?,
            registration_number: registration_number?,
            loaned_on: loaned_on?,
            due_on: due_on.ok()?,
        })
    })
}

// ---------------------------------------------------------------------------

/// Records `key` as first seen on `line`, or returns the earlier line.
fn first_seen<K: std::hash::Hash + Eq>(seen: &mut HashMap<K, usize>, key: K, line: usize) -> Option<usize> {
    match seen.get(&key) {
        Some(&prev) => Some(prev),
        None => {
            seen.insert(key, line);
            None
        }
    }
}

/// First and last name of a member row, reporting what is missing.
fn member_names(r: &mut Row<'_>) -> (Option<String>, Option<String>) {
    let mut first = clean_text(r.text(Field::FirstName));
    let mut last = clean_text(r.text(Field::LastName));
    let full_raw = r.text(Field::FullName);
    let full = clean_text(full_raw);
    if (first.is_empty() || last.is_empty()) && !full.is_empty() {
        match full.split_once(' ') {
            Some((f, l)) => {
                first = f.to_owned();
                last = l.to_owned();
            }
            None => {
                r.error(
                    Field::FullName,
                    full_raw,
                    format!(
                        "نام و نام خانوادگی «{full}» یک کلمه است؛ نام و نام خانوادگی را با یک فاصله از هم جدا بنویسید."
                    ),
                );
                return (None, None);
            }
        }
    }
    let first_field = if r.mapped(Field::FirstName) { Field::FirstName } else { Field::FullName };
    let last_field = if r.mapped(Field::LastName) { Field::LastName } else { Field::FullName };
    if first.is_empty() {
        r.error(first_field, "", "نام خالی است؛ نام عضو را بنویسید.".to_owned());
    }
    if last.is_empty() {
        r.error(last_field, "", "نام خانوادگی خالی است؛ نام خانوادگی عضو را بنویسید.".to_owned());
    }
    (Some(first).filter(|s| !s.is_empty()), Some(last).filter(|s| !s.is_empty()))
}

/// One row being parsed: reads mapped cells and collects errors.
struct Row<'a> {
    table: &'a Table,
    mapping: &'a ColumnMapping,
    src: &'a SourceRow,
    errors: Vec<RowError>,
}

impl<'a> Row<'a> {
    fn line(&self) -> usize {
        self.src.line
    }

    fn mapped(&self, field: Field) -> bool {
        self.mapping.get(field).is_some()
    }

    /// The trimmed cell of `field`, "" when unmapped.
    fn text(&self, field: Field) -> &'a str {
        self.mapping.get(field).and_then(|c| self.src.cells.get(c)).map_or("", |s| s.trim())
    }

    fn error(&mut self, field: Field, value: &str, message: String) {
        let column = self.mapping.get(field).map(|c| self.table.column_label(c));
        self.errors.push(RowError {
            line: self.src.line,
            column,
            field: Some(field),
            value: value.to_owned(),
            message,
        });
    }

    /// An optional date: `Ok(None)` when empty, `Err(())` (reported) when bad.
    fn date(&mut self, field: Field) -> Result<Option<NaiveDate>, ()> {
        let raw = self.text(field);
        if raw.is_empty() {
            return Ok(None);
        }
        parse_date_cell(raw).map(Some).map_err(|msg| self.error(field, raw, msg))
    }

    /// A required number-like cell, normalized like a registration number.
    fn required_number(&mut self, field: Field, empty_message: &str) -> Option<String> {
        let n = normalize_registration_number(self.text(field));
        if n.is_empty() {
            self.error(field, "", empty_message.to_owned());
            None
        } else {
            Some(n)
        }
    }

    fn registration_number(&mut self, field: Field) -> Option<String> {
        self.required_number(field, "شماره ثبت خالی است؛ شماره ثبت را از روی مهر داخل کتاب بنویسید.")
    }

    /// Reports non-empty cells past the last header.
    fn check_width(&mut self) {
        let width = self.table.headers.len();
        if self.src.cells.len() <= width {
            return;
        }
        let extra: Vec<&str> = self.src.cells[width..].iter().map(|s| s.as_str()).filter(|s| !s.is_empty()).collect();
        if extra.is_empty() {
            return;
        }
        self.errors.push(RowError {
            line: self.src.line,
            column: None,
            field: None,
            value: extra.join(" | "),
            message: format!(
                "این سطر {} خانه دارد ولی جدول {} ستون دارد؛ شاید در یکی از خانه‌ها جداکننده (مثلاً ویرگول) آمده است. خانه‌های اضافه را پاک کنید یا آن خانه را داخل گیومه \" بگذارید.",
                persian_number(self.src.cells.len()),
                persian_number(width)
            ),
        });
    }
}

/// Runs `f` over every row after checking the mapping; a row's value is kept
/// only when it produced no error.
fn parse_rows<T>(
    t: &Table,
    m: &ColumnMapping,
    kind: ImportKind,
    mut f: impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Result<Parsed<T>, ImportError> {
    m.validate(kind, t)?;
    let mut parsed = Parsed { rows: Vec::with_capacity(t.rows.len()), errors: Vec::new() };
    for src in &t.rows {
        let mut row = Row { table: t, mapping: m, src, errors: Vec::new() };
        row.check_width();
        let value = f(&mut row);
        if row.errors.is_empty() {
            if let Some(v) = value {
                parsed.rows.push((src.line, v));
            }
        } else {
            parsed.errors.append(&mut row.errors);
        }
    }
    Ok(parsed)
}
