//! A desk with a center, a manager, an instructor, books and members.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use kanoon_domain::entities::{AlternativeId, CenterKind, Documents, Gender};
use kanoon_domain::jalali::JalaliDate;
use kanoon_store::catalog::TitleInput;
use kanoon_store::members::{FeeInput, MemberDetails, MemberView, RegisterMember, RegisterOutcome};
use kanoon_store::{Desk, ManualClock, SetupRequest};

/// 1404/01/16 (a Saturday), 10:00 Tehran.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 4, 5, 6, 30, 0).unwrap()
}

/// The first manager's username and every test staff member's password.
pub const MANAGER: &str = "manager";
pub const PASSWORD: &str = "kanoon1404";

pub fn setup_request() -> SetupRequest {
    SetupRequest {
        center_code: "۱۲۳۴".into(),
        center_name: "مرکز شماره ۱ اراک".into(),
        center_kind: CenterKind::Fixed,
        desk_number: 1,
        manager_username: "manager".into(),
        manager_full_name: "زهرا احمدی".into(),
    }
}

pub struct Fixture {
    pub desk: Desk,
    pub clock: ManualClock,
}

pub fn desk() -> Fixture {
    let clock = ManualClock::new(start_time());
    let mut desk = Desk::open_in_memory().unwrap().with_clock(Arc::new(clock.clone()));
    desk.setup(setup_request(), PASSWORD).unwrap();
    Fixture { desk, clock }
}

/// A valid national id built from nine digits (check digit computed).
pub fn national_id(nine: u64) -> String {
    kanoon_domain::ids::NationalId::from_body(&format!("{:09}", nine % 1_000_000_000)).unwrap().as_str().to_owned()
}

pub fn details(first: &str, last: &str, nid: Option<String>) -> MemberDetails {
    MemberDetails {
        first_name: first.into(),
        last_name: last.into(),
        father_name: "محمد".into(),
        gender: Gender::Female,
        birth_date: Some(JalaliDate::new(1394, 5, 10).unwrap()),
        alternative_id: if nid.is_none() {
            Some(AlternativeId {
                kind: "کارت آمایش".into(), value: format!("{first}{last}").len().to_string()
            })
        } else {
            None
        },
        national_id: nid,
        school_grade: Some(4),
        guardian_phone: Some("۰۹۱۲۳۴۵۶۷۸۹".into()),
        address: "اراک، خیابان شهید بهشتی".into(),
        village: None,
        village_id: None,
        documents: Documents { photo: true, birth_certificate_copy: true },
        age_group_override: None,
    }
}

pub fn paid() -> FeeInput {
    FeeInput::Paid { amount_rials: 350_000, receipt_number: "۴۵۶۷".into() }
}

pub fn register(desk: &mut Desk, first: &str, last: &str, nid: u64) -> MemberView {
    let out = desk.register_member(RegisterMember::new(details(first, last, Some(national_id(nid))), paid())).unwrap();
    match out {
        RegisterOutcome::Registered { member } => *member,
        other => panic!("not registered: {other:?}"),
    }
}

pub fn title(name: &str, group: Option<&str>) -> TitleInput {
    TitleInput {
        title: name.into(),
        author: "هوشنگ مرادی کرمانی".into(),
        publisher: "کانون پرورش فکری".into(),
        age_group: group.map(str::to_owned),
        ..TitleInput::default()
    }
}

/// Adds a title with copies numbered `from..from+n`.
pub fn books(desk: &mut Desk, name: &str, from: u32, n: u32) -> Vec<String> {
    let numbers: Vec<String> = (from..from + n).map(|i| i.to_string()).collect();
    desk.add_title_with_copies(title(name, Some("+7")), &numbers).unwrap();
    numbers
}

/// Cases per property test: 1,000 in CI, more with `PROPTEST_CASES=N`.
pub fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000).max(1000)
}

/// Lends these books to the member with the warnings seen (the usual scan).
pub fn lend(desk: &mut Desk, member: uuid::Uuid, numbers: &[&str]) -> kanoon_store::circulation::CheckOutResult {
    desk.check_out(kanoon_store::circulation::CheckOutRequest::new(member, numbers.iter().copied()).confirmed())
        .unwrap()
}

/// A desk with `count` copies of one title (registration numbers from
/// `first`) and one registered reader: the start of most loan tests.
pub fn desk_with_reader(
    (title, first, count): (&str, u32, u32),
    (first_name, last_name, nid): (&str, &str, u64),
) -> (Fixture, MemberView) {
    let mut f = desk();
    books(&mut f.desk, title, first, count);
    let member = register(&mut f.desk, first_name, last_name, nid);
    (f, member)
}

/// Another center of the province, as a manager records it before sync
/// brings the list.
pub fn other_center(
    code: &str,
    name: &str,
    kind: kanoon_domain::entities::CenterKind,
) -> kanoon_domain::entities::Center {
    kanoon_domain::entities::Center {
        id: uuid::Uuid::nil(),
        code: code.into(),
        name: name.into(),
        kind,
        address: String::new(),
        phone: String::new(),
    }
}
