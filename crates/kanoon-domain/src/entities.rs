//! Records of a center: who and what the events are about.
//!
//! These are the shapes shared by the desk store and the server. Ids are
//! UUIDs generated offline; a center's UUID is derived from its official
//! code so every peer agrees on it before they ever talk.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// Planning the week's activities and recording attendance.
    PlanActivities,
    /// Adding the center's own activity kinds to the province's list.
    EditActivityKinds,
    /// Taking payments and refunds into the cash book.
    TakePayments,
    /// Confirming a staff member's day of cash (صندوق) as closed.
    CloseCash,
    /// Enrolling participants in workshops, their withdrawals and
    /// attendance.
    EnrolWorkshops,
    /// Setting up, changing and cancelling workshops, and enrolling past a
    /// full workshop.
    ManageWorkshops,
    /// The van's and the post's daily work: villages as they are met,
    /// opening and closing a visit, cancelling one, sending and receiving
    /// parcels.
    ServeVillages,
    /// The van's route (which village on which day) and a village's
    /// eligibility.
    PlanRoutes,
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
            Role::Instructor => &[
                LoanDesk,
                RegisterMembers,
                EditCatalog,
                VoidRecords,
                PlanActivities,
                TakePayments,
                EnrolWorkshops,
                ServeVillages,
            ],
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
                PlanActivities,
                EditActivityKinds,
                TakePayments,
                CloseCash,
                EnrolWorkshops,
                ManageWorkshops,
                ServeVillages,
                PlanRoutes,
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

/// Documents handed in at registration (the seed's checklist).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Documents {
    pub photo: bool,
    pub birth_certificate_copy: bool,
}

/// A title's bibliographic details: what staff type in the catalog, what
/// the migration import reads and what a title's ops carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "TitleInput"))]
pub struct TitleDetails {
    /// عنوان
    pub title: String,
    /// نویسنده ("" when not given; so are the other text fields).
    pub author: String,
    /// مترجم
    pub translator: String,
    /// تصویرگر
    pub illustrator: String,
    /// ناشر
    pub publisher: String,
    /// Publication year as written: Jalali (e.g. 1398) or Gregorian (2019).
    pub year: Option<i32>,
    /// Digits and `X` only; "" when not given.
    pub isbn: String,
    /// Code of an age group (see `age_group`), e.g. «ب» or "+7".
    pub age_group: Option<String>,
    /// موضوع
    pub subjects: String,
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
