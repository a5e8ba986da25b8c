//! Writes the first inputs of the corpus from real work on a real desk (a
//! title with copies, a member, a loan, a return) and real import files:
//! `cargo test -p kanoon-fuzz --test seeds -- --ignored`. The guided runs
//! grow the corpus from these; see docs/FUZZING.md.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use kanoon_domain::entities::{CenterKind, Documents, Gender};
use kanoon_domain::jalali::JalaliDate;
use kanoon_store::catalog::TitleInput;
use kanoon_store::circulation::CheckOutRequest;
use kanoon_store::members::{FeeInput, MemberDetails, RegisterMember, RegisterOutcome};
use kanoon_store::{Desk, SetupRequest};

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
#[ignore = "writes fuzz/corpus/: run by hand"]
fn write_the_seed_corpus() {
    let mut desk = Desk::open_in_memory().unwrap();
    let setup = SetupRequest {
        center_code: "1234".into(),
        center_name: "مرکز شماره ۱ اراک".into(),
        center_kind: CenterKind::Fixed,
        desk_number: 1,
        manager_username: "manager".into(),
        manager_full_name: "زهرا احمدی".into(),
    };
    desk.setup(setup, "seed-password").unwrap();
    let numbers: Vec<String> = (100_001..100_004).map(|n: u32| n.to_string()).collect();
    let title = TitleInput {
        title: "كليله و دمنه".into(),
        author: "نصرالله منشی".into(),
        isbn: "9789643180117".into(),
        age_group: Some("د".into()),
        ..TitleInput::default()
    };
    desk.add_title_with_copies(title, &numbers).unwrap();
    let details = MemberDetails {
        first_name: "سارا".into(),
        last_name: "احمدی".into(),
        father_name: "علی".into(),
        gender: Gender::Female,
        birth_date: Some(JalaliDate::new(1395, 6, 12).unwrap()),
        alternative_id: None,
        national_id: Some("0013542419".into()),
        school_grade: Some(4),
        guardian_phone: Some("09121234567".into()),
        address: "اراک".into(),
        village: None,
        village_id: None,
        documents: Documents { photo: false, birth_certificate_copy: true },
        age_group_override: None,
    };
    let fee = FeeInput::Paid { amount_rials: 350_000, receipt_number: "4567".into() };
    let RegisterOutcome::Registered { member } = desk.register_member(RegisterMember::new(details, fee)).unwrap()
    else {
        panic!("not registered")
    };
    desk.check_out(CheckOutRequest {
        member_id: member.id,
        registration_numbers: numbers[..2].to_vec(),
        confirm_warnings: true,
        override_reason: None,
        visit_id: None,
    })
    .unwrap();
    desk.check_in("100001").unwrap();

    let ops = desk.outbox(1000).unwrap();
    let texts: Vec<String> = ops.iter().map(|op| serde_json::to_string(op).unwrap()).collect();
    for (i, text) in texts.iter().enumerate() {
        std::fs::write(corpus("op").join(format!("seed-{i:02}.json")), text).unwrap();
    }
    let all = texts.join(",");
    let n = texts.len();
    std::fs::write(
        corpus("pull_page").join("seed-page.json"),
        format!(r#"{{"ops":[{all}],"cursor":"1:{n}","more":false}}"#),
    )
    .unwrap();
    std::fs::write(corpus("pull_page").join("seed-empty.json"), r#"{"ops":[],"cursor":"1:0","more":true}"#).unwrap();
    std::fs::write(corpus("snapshot").join("seed-snapshot.json"), format!(r#"{{"cursor":"1:{n}","ops":[{all}]}}"#))
        .unwrap();

    let members = "نام,نام خانوادگی,کد ملی,تاریخ تولد,تلفن همراه ولی,شماره عضویت\nسارا,احمدی,0013542419,1395/06/12,09121234567,12340100001\nعلی,رضایی,,1390/1/1,۰۹۱۲۰۰۰۰۰۰۰,\n";
    std::fs::write(corpus("import").join("seed-members.csv"), members).unwrap();
    let titles = "عنوان,نویسنده,شماره ثبت,شابک,گروه سنی\nشازده کوچولو,اگزوپری,100001,9789643180117,ب\nشازده کوچولو,اگزوپری,100002,,ب\n";
    std::fs::write(corpus("import").join("seed-titles.csv"), titles).unwrap();
    let loans = "شماره عضویت,شماره ثبت,تاریخ امانت,موعد بازگشت\n12340100001,100001,1404/12/01,1404/12/15\n";
    std::fs::write(corpus("import").join("seed-loans.csv"), loans).unwrap();
    let (cp1256, _, _) = encoding_rs::WINDOWS_1256.encode(members);
    std::fs::write(corpus("import").join("seed-members-1256.csv"), cp1256).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, line) in members.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    std::fs::write(corpus("import").join("seed-members.xlsx"), book.save_to_buffer().unwrap()).unwrap();
}
