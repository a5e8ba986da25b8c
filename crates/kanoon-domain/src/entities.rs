//! Records of a center: who and what the events are about.
//!
//! These are the shapes shared by the desk store and the server. Ids are
//! UUIDs generated offline; a center's UUID is derived from its official
//! code so every peer agrees on it before they ever talk.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{MemberNumber, Mobile, NationalId};

/// Namespace for center UUIDs (v5 of the official code).
const CENTER_NAMESPACE: Uuid = Uuid::from_u128(0x6b61_6e6f_6f6e_4000_8000_6365_6e74_6572);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CenterKind {
    /// مرکز فرهنگی هنری ثابت
    Fixed,
    /// مرکز سیار (the book van)
    Mobile,
    /// مرکز پستی
    Postal,
}

impl CenterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CenterKind::Fixed => "fixed",
            CenterKind::Mobile => "mobile",
            CenterKind::Postal => "postal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fixed" => Some(Self::Fixed),
            "mobile" => Some(Self::Mobile),
            "postal" => Some(Self::Postal),
            _ => None,
        }
    }

    pub fn persian(self) -> &'static str {
        match self {
            CenterKind::Fixed => "مرکز ثابت",
            CenterKind::Mobile => "مرکز سیار",
            CenterKind::Postal => "مرکز پستی",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Center {
    pub id: Uuid,
    /// Official center code (digits), the center's identity.
    pub code: String,
    pub name: String,
    pub kind: CenterKind,
    pub address: String,
    pub phone: String,
}

impl Center {
    /// The UUID of the center with this official code, the same on every
    /// peer whatever digit script the code was typed in.
    pub fn id_for_code(code: &str) -> Uuid {
        Uuid::new_v5(&CENTER_NAMESPACE, normalize_center_code(code).as_bytes())
    }
}

/// Roles are data: what a role may do is decided by looking it up, not by
/// matching on names scattered through the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// مربی — every instructor can run the loan desk.
    Instructor,
    /// مدیر مرکز
    CenterManager,
    /// کارشناس استان
    ProvincialAdmin,
}

/// Something a staff member may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    LoanDesk,
    RegisterMembers,
    EditCatalog,
    OverrideLoanRules,
    VoidRecords,
    /// Replacing the database with a backup.
    Restore,
    /// Merging duplicate members or titles.
    MergeRecords,
    ImportData,
    EditPolicy,
    ManageStaff,
    /// Writing a backup of the whole database (it holds every member's
    /// details) to a folder.
    Backup,
    /// Enrolling this desk with the provincial server (its sync settings).
    EnrolDesk,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Instructor => "instructor",
            Role::CenterManager => "center_manager",
            Role::ProvincialAdmin => "provincial_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "instructor" => Some(Self::Instructor),
            "center_manager" => Some(Self::CenterManager),
            "provincial_admin" => Some(Self::ProvincialAdmin),
            _ => None,
        }
    }

    pub fn persian(self) -> &'static str {
        match self {
            Role::Instructor => "مربی",
            Role::CenterManager => "مدیر مرکز",
            Role::ProvincialAdmin => "کارشناس استان",
        }
    }

    /// The permission table. Instructors run the desk, register members and
    /// keep the catalog (there is no separate librarian grade); overriding
    /// loan rules, voiding, importing, policy, backup and restore (a copy of
    /// every member's details) and enrolment are the manager's.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Instructor => &[LoanDesk, RegisterMembers, EditCatalog, VoidRecords],
            Role::CenterManager | Role::ProvincialAdmin => &[
                LoanDesk,
                RegisterMembers,
                EditCatalog,
                OverrideLoanRules,
                VoidRecords,
                ImportData,
                EditPolicy,
                ManageStaff,
                Backup,
                Restore,
                MergeRecords,
                EnrolDesk,
            ],
        }
    }

    pub fn allows(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Staff {
    pub id: Uuid,
    pub center_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
        }
    }

    /// Accepts the stored form and what people write in spreadsheets.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "female" | "f" | "girl" | "زن" | "دختر" | "مونث" | "مؤنث" | "خانم" => Some(Self::Female),
            "male" | "m" | "boy" | "مرد" | "پسر" | "مذکر" | "آقا" => Some(Self::Male),
            _ => None,
        }
    }

    pub fn persian(self) -> &'static str {
        match self {
            Gender::Female => "دختر",
            Gender::Male => "پسر",
        }
    }
}

/// How a member without a national id (children of foreign nationals) is
/// identified instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlternativeId {
    /// e.g. «کارت آمایش», «گذرنامه», «برگه حمایت تحصیلی»
    pub kind: String,
    pub value: String,
}

/// A member is identified either by a national id or by an alternative id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PersonId {
    National { national_id: NationalId },
    Alternative { alternative: AlternativeId },
}

/// Documents handed in at registration (the seed's checklist).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Documents {
    pub photo: bool,
    pub birth_certificate_copy: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Member {
    pub id: Uuid,
    pub center_id: Uuid,
    pub member_number: MemberNumber,
    /// The number on the card issued by the software used before, kept so
    /// old cards still scan.
    pub legacy_number: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub gender: Gender,
    pub birth_date: Option<NaiveDate>,
    pub person_id: Option<PersonId>,
    pub school_grade: Option<u8>,
    pub guardian_phone: Option<Mobile>,
    pub address: String,
    /// Village for members of mobile and postal centers.
    pub village: Option<String>,
    pub documents: Documents,
    /// Age group code chosen by staff instead of the one derived from age.
    pub age_group_override: Option<String>,
    /// When merged as a duplicate: the member this one now redirects to.
    pub merged_into: Option<Uuid>,
}

impl Member {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Title {
    pub id: Uuid,
    pub title: String,
    pub author: String,
    pub translator: String,
    pub illustrator: String,
    pub publisher: String,
    pub year: Option<i32>,
    pub isbn: String,
    /// Code of an age group (see `age_group`), e.g. "ب" or "+7".
    pub age_group: Option<String>,
    pub subjects: String,
    pub merged_into: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum WithdrawReason {
    Lost,
    Damaged,
    Weeded,
}

impl WithdrawReason {
    pub fn as_str(self) -> &'static str {
        match self {
            WithdrawReason::Lost => "lost",
            WithdrawReason::Damaged => "damaged",
            WithdrawReason::Weeded => "weeded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lost" => Some(Self::Lost),
            "damaged" => Some(Self::Damaged),
            "weeded" => Some(Self::Weeded),
            _ => None,
        }
    }

    pub fn persian(self) -> &'static str {
        match self {
            WithdrawReason::Lost => "مفقود",
            WithdrawReason::Damaged => "آسیب‌دیده",
            WithdrawReason::Weeded => "وجین‌شده",
        }
    }
}

/// A physical copy. Its identity is the UUID; the registration number is
/// what is stamped in the book and is unique among a center's active copies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Copy {
    pub id: Uuid,
    pub title_id: Uuid,
    pub center_id: Uuid,
    pub registration_number: String,
    /// None while the copy is in the collection.
    pub withdrawn: Option<WithdrawReason>,
}

/// A center code as typed: any digit script, spaces and invisible marks dropped.
pub fn normalize_center_code(input: &str) -> String {
    crate::text::to_ascii_digits(input)
        .chars()
        .filter(|c| !c.is_whitespace() && !crate::text::is_invisible(*c))
        .collect()
}

/// Whether a (normalized) center code is acceptable: 1–8 digits.
pub fn is_valid_center_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= 8 && code.chars().all(|c| c.is_ascii_digit())
}

/// Normalizes a registration number as typed or scanned: any digit script,
/// surrounding spaces dropped. Registration numbers are mostly digits but
/// some centers use a prefix, so other characters are kept.
pub fn normalize_registration_number(input: &str) -> String {
    crate::text::to_ascii_digits(input.trim())
        .chars()
        .filter(|c| !c.is_whitespace() && !crate::text::is_invisible(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn center_id_is_derived_from_the_code_alone() {
        assert_eq!(Center::id_for_code("1234"), Center::id_for_code(" 1234 "));
        assert_eq!(Center::id_for_code("1234"), Center::id_for_code("۱۲۳۴"));
        assert_ne!(Center::id_for_code("1234"), Center::id_for_code("1235"));
    }

    #[test]
    fn instructors_run_the_desk_but_do_not_override() {
        assert!(Role::Instructor.allows(Permission::LoanDesk));
        assert!(!Role::Instructor.allows(Permission::OverrideLoanRules));
        assert!(Role::CenterManager.allows(Permission::OverrideLoanRules));
        for p in [Permission::Backup, Permission::Restore, Permission::EnrolDesk, Permission::EditPolicy] {
            assert!(!Role::Instructor.allows(p), "{p:?}");
            assert!(Role::CenterManager.allows(p), "{p:?}");
        }
    }

    #[test]
    fn registration_numbers_accept_persian_digits() {
        assert_eq!(normalize_registration_number(" ۱۲۳۴۵ "), "12345");
        assert_eq!(normalize_registration_number("الف-۱۲"), "الف-12");
    }
}
