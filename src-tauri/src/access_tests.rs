//! Who may call which command, over the whole `commands!` table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::commands::{COMMANDS, call};
use crate::error::ApiErrorCode;
use crate::state::AppState;

/// The commands a signed-out window may call.
const OPEN: &[&str] = &["app_status", "setup_desk", "sign_in"];

const PASSWORD: &str = "کتابخانه۱۴۰۵";

fn setup_args() -> Value {
    json!({
        "request": {
            "center_code": "1234",
            "center_name": "مرکز شماره ۱ اراک",
            "center_kind": "fixed",
            "desk_number": 1,
            "manager_username": "manager",
            "manager_full_name": "مدیر مرکز",
        },
        "manager_password": PASSWORD,
    })
}

/// A well-formed argument for every command (a command missing here fails
/// the test: a new command must be added, and so checked).
fn samples() -> BTreeMap<&'static str, Value> {
    let id = json!("0190f5c2-7b4e-7000-8000-000000000001");
    let details = json!({
        "first_name": "سارا", "last_name": "کریمی", "father_name": "علی", "gender": "female",
        "birth_date": {"year": 1395, "month": 1, "day": 1}, "national_id": null, "alternative_id": null,
        "school_grade": null, "guardian_phone": null, "address": "اراک", "village": null,
        "documents": {"photo": false, "birth_certificate_copy": false}, "age_group_override": null,
    });
    let fee = json!({"type": "paid", "amount_rials": 0, "receipt_number": "1"});
    let photo = "data:image/png;base64,iVBORw0KGgo=";
    let csv = json!("bmFtZQpzYXJhCg=="); // "name\nsara\n"
    let title = json!({
        "title": "ماهی سیاه کوچولو", "author": "", "translator": "", "illustrator": "", "publisher": "",
        "year": null, "isbn": "", "age_group": null, "subjects": "",
    });
    let policy = serde_json::to_value(kanoon_domain::policy::Policy::default()).unwrap_or_default();
    let mapping = serde_json::to_value(kanoon_import::ColumnMapping::default()).unwrap_or_default();
    let credentials = json!({"username": "manager", "password": PASSWORD});
    let session = json!({
        "kind": "storytelling", "title": "قصه", "age_group": "ب", "on": "2025-04-05", "at": "10:00",
        "minutes": 60, "room": "", "instructor_id": id, "capacity": 20,
    });
    let workshop = json!({
        "term": "تابستان", "title": "نقاشی", "instructor_id": id, "age_groups": [], "gender": null, "room": "",
        "first_on": "2025-04-12", "weekdays": [0], "session_count": 4, "at": "16:00", "minutes": 90,
        "capacity": 10, "minimum": 2, "tuition_rials": 1000000, "instructor_share_percent": 50,
        "max_installments": 2, "completion_percent": 75, "refund_before_percent": 100, "refund_after_percent": 50,
    });
    let participant = json!({
        "full_name": "آوا", "gender": "female", "age_group": null, "guardian_name": "", "guardian_phone": "09121234567",
    });
    BTreeMap::from([
        ("app_status", Value::Null),
        ("setup_desk", setup_args()),
        ("sign_in", credentials.clone()),
        ("sign_out", Value::Null),
        ("change_password", json!({"current_password": PASSWORD, "new_password": "رمز تازه ۱۴۰۵"})),
        ("reset_password", json!({"username": "sara", "password": "رمز تازه ۱۴۰۵"})),
        (
            "add_staff",
            json!({"username": "sara", "full_name": "سارا مربی", "role": "instructor", "password": PASSWORD}),
        ),
        ("staff_list", Value::Null),
        ("set_staff_active", json!({"staff_id": id, "active": false})),
        ("member_by_number", json!("1234010000018")),
        ("member", id.clone()),
        ("find_members", json!({"query": "سارا", "limit": 10})),
        (
            "register_member",
            json!({"details": details, "photo_data_url": photo, "fee": fee, "confirm_duplicate_national_id": false, "legacy_number": null}),
        ),
        ("renew_membership", json!({"member_id": id, "fee": fee})),
        ("edit_member", json!({"member_id": id, "details": details})),
        ("set_member_photo", json!({"member_id": id, "data_url": photo})),
        ("member_photo", id.clone()),
        ("member_card", id.clone()),
        ("membership_periods", id.clone()),
        ("member_edits", id.clone()),
        ("open_loans_of", id.clone()),
        ("loan_history", id.clone()),
        ("preview_check_out", json!({"member_id": id, "registration_numbers": ["1"]})),
        (
            "check_out",
            json!({"member_id": id, "registration_numbers": ["1"], "confirm_warnings": true, "override_reason": null}),
        ),
        ("check_in", json!("1")),
        ("renew_loan", id.clone()),
        ("void_event", json!({"event_id": id, "reason": "اشتباه"})),
        ("overdue_loans", Value::Null),
        ("record_reminder_call", json!({"member_id": id, "note": "پاسخ نداد"})),
        ("todays_circulation", Value::Null),
        ("search_titles", json!({"query": "ماهی", "limit": 10})),
        ("title", id.clone()),
        ("add_title", json!({"title": title, "registration_numbers": ["1"]})),
        ("edit_title", json!({"title_id": id, "title": title})),
        ("add_copy", json!({"title_id": id, "registration_number": "2"})),
        ("copy_by_registration_number", json!("1")),
        ("withdraw_copy", json!({"copy_id": id, "reason": "lost"})),
        ("reinstate_copy", id.clone()),
        ("transfer_copy", json!({"copy_id": id, "to_center_code": "5678"})),
        ("centers", Value::Null),
        ("language_institute", Value::Null),
        (
            "set_language_institute",
            json!({"site": "https://www.ili.ir", "how_to_register": "", "branch_name": "", "branch_address": "", "branch_phone": "", "notes": ""}),
        ),
        ("villages", Value::Null),
        ("export_ops_to_stick", Value::Null),
        ("import_ops_from_stick", Value::Null),
        (
            "save_village",
            json!({"village_id": null, "village": {"name": "ورچه", "district": "", "eligible": true,
                "ineligible_reason": null, "distance_km": null, "school": null, "contact_name": "",
                "contact_phone": "", "children": null}}),
        ),
        ("set_village_slot", json!({"village_id": id, "slot": {"weekday": 0, "week": 0}})),
        ("set_village_retired", json!({"village_id": id, "retired": true})),
        ("route", json!({"from": "2025-03-21", "to": "2025-04-21"})),
        ("open_visit", json!(id)),
        ("van_visit", json!(id)),
        ("close_visit", json!({"visit_id": id, "notes": ""})),
        ("change_visit", json!({"village_id": id, "on": "2025-04-05", "to": null, "reason": "برف"})),
        ("van_visits", json!({"from": "2025-03-21", "to": "2025-04-21"})),
        (
            "send_parcel",
            json!({"member_id": id, "registration_numbers": ["1"], "postage_rials": 0, "tracking_number": ""}),
        ),
        ("receive_parcel_book", json!({"parcel_id": id, "registration_number": "1"})),
        ("lose_parcel_book", json!({"parcel_id": id, "registration_number": "1"})),
        ("parcels", json!({"member_id": null, "open_only": false})),
        ("parcel", json!(id)),
        ("wish_list", json!(id)),
        ("wish", json!({"member_id": id, "title_id": id})),
        ("unwish", json!({"member_id": id, "title_id": id})),
        ("fill_parcel", json!(id)),
        (
            "register_class",
            json!({"village_id": id, "school_grade": 4, "fee": {"type": "exempt", "exemption": "postal", "reason": "کلاس"},
                "rows": [{"first_name": "زهرا", "last_name": "کریمی", "father_name": "", "gender": "female",
                    "birth_date": null, "national_id": null, "guardian_phone": null}]}),
        ),
        ("roster_from_file", json!({"file_base64": ""})),
        ("link_members_to_villages", Value::Null),
        ("record_referral", json!({"member_id": null, "visitor_name": "علی", "age_group": null, "note": ""})),
        ("void_referral", json!({"referral_id": id, "reason": "اشتباه"})),
        ("referrals", json!({"from": "2025-03-21", "to": "2025-04-21"})),
        (
            "take_payment",
            json!({"kind": "tuition", "method": "cash", "pos_ref": null, "amount_rials": 1000, "payer": "خانواده", "member_id": null}),
        ),
        ("refund_payment", json!({"payment_id": id, "amount_rials": 1000, "reason": "انصراف"})),
        ("cash_entry", id.clone()),
        ("workshops", json!({"term": null, "include_past": false})),
        ("workshop_terms", Value::Null),
        ("workshop", id.clone()),
        ("create_workshop", workshop.clone()),
        ("edit_workshop", json!({"workshop_id": id, "workshop": workshop})),
        ("cancel_workshop", json!({"workshop_id": id, "reason": "به حد نصاب نرسید"})),
        ("family_workshop_list", Value::Null),
        ("add_participant", participant.clone()),
        ("edit_participant", json!({"participant_id": id, "participant": participant})),
        ("participant_for_member", id.clone()),
        ("link_participant_to_member", json!({"participant_id": id, "member_id": id})),
        ("find_participants", json!("آوا")),
        (
            "enrol",
            json!({"workshop_id": id, "participant_id": id, "exemption_rials": 0, "exemption_reason": "", "installments": 1, "over_capacity": false}),
        ),
        ("offer_place", id.clone()),
        ("accept_place", json!({"workshop_id": id, "participant_id": id})),
        ("withdraw_participant", json!({"workshop_id": id, "participant_id": id, "reason": "سفر"})),
        ("mark_workshop_attendance", json!({"workshop_id": id, "session": 1, "participant_id": id, "present": true})),
        ("workshop_attendance", id.clone()),
        ("workshop_certificate", json!({"workshop_id": id, "participant_id": id})),
        (
            "pay_tuition",
            json!({"workshop_id": id, "participant_id": id, "method": "cash", "pos_ref": null, "amount_rials": 1000}),
        ),
        ("refund_tuition", json!({"workshop_id": id, "participant_id": id})),
        ("cash_day", json!({"staff_id": id, "day": "2025-04-05"})),
        ("close_cash_day", json!({"staff_id": id, "day": "2025-04-05"})),
        ("receipt_problems", Value::Null),
        ("activity_kinds", Value::Null),
        ("add_activity_kind", json!("شعرخوانی")),
        ("set_activity_kind_retired", json!({"kind_id": id, "retired": true})),
        ("instructors", Value::Null),
        ("week_program", json!("2025-04-05")),
        ("activity_session", id.clone()),
        ("plan_session", session.clone()),
        ("edit_session", json!({"session_id": id, "session": session})),
        ("move_session", json!({"session_id": id, "on": "2025-04-06", "at": "10:00", "reason": "اتاق"})),
        ("cancel_session", json!({"session_id": id, "reason": "برق"})),
        ("copy_week", json!({"from": "2025-04-05", "to": "2025-04-12"})),
        ("record_attendance", json!({"session_id": id, "card": "1234010000018"})),
        ("tick_attendance", json!({"session_id": id, "member_id": id})),
        ("void_attendance", json!({"attendance_id": id, "reason": "اشتباه"})),
        ("session_attendance", id.clone()),
        ("member_activities", id.clone()),
        ("instructor_month", json!({"instructor_id": id, "year": 1404, "month": 1})),
        ("import_preview", json!({"file_base64": csv})),
        ("import_dry_run", json!({"kind": "members", "file_base64": csv, "mapping": mapping})),
        ("import_commit", json!({"kind": "members", "file_base64": csv, "mapping": mapping})),
        ("policy", Value::Null),
        ("set_policy", policy),
        ("membership_terms", Value::Null),
        ("set_membership_terms", json!({"fee_rials": 0, "period_days": 365})),
        ("fee_exemptions", Value::Null),
        ("age_groups", Value::Null),
        ("holidays", json!({"from": "2025-03-21", "to": "2025-04-21"})),
        ("set_holidays", json!({"from": "2025-03-21", "to": "2025-04-21", "holidays": []})),
        ("setting_origins", Value::Null),
        ("clear_setting_override", json!("membership_terms")),
        ("fee_campaigns", Value::Null),
        ("backup_now", Value::Null),
        ("restore_backup", Value::Null),
        ("save_draft", json!({"form": "register", "body": "{}"})),
        ("load_draft", json!("register")),
        ("clear_draft", json!("register")),
        ("sync_status", Value::Null),
        ("sync_problems", Value::Null),
        ("resolve_sync_exception", json!({"id": id, "note": "بررسی شد"})),
        ("test_advance_clock", json!(1)),
        ("sync_enrol", json!({"server": "https://sync.example.ir", "code": "1234567890"})),
        ("sync_now", Value::Null),
    ])
}

fn state() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(&dir.path().join("desk.sqlite"), true).unwrap();
    (dir, state)
}

#[test]
fn every_command_but_status_setup_and_sign_in_refuses_a_signed_out_caller() {
    let (_dir, state) = state();
    call(&state, "setup_desk", setup_args()).unwrap();
    call(&state, "sign_out", Value::Null).unwrap();
    let samples = samples();
    let unsampled: Vec<_> = COMMANDS.iter().filter(|c| !samples.contains_key(**c)).collect();
    assert!(unsampled.is_empty(), "commands without a sample argument here (add one): {unsampled:?}");
    let unknown: Vec<_> = samples.keys().filter(|c| !COMMANDS.contains(c)).collect();
    assert!(unknown.is_empty(), "samples of commands that are not in the table: {unknown:?}");

    let mut wrong = Vec::new();
    for name in COMMANDS.iter().filter(|c| !OPEN.contains(c)) {
        match call(&state, name, samples[name].clone()) {
            Err(e) if e.code == ApiErrorCode::NotSignedIn => {}
            other => wrong.push(format!("{name}: {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "commands that did not refuse a signed-out caller:\n{}", wrong.join("\n"));

    // The open ones answer; a wrong password is refused, the right one signs in.
    assert_eq!(call(&state, "app_status", Value::Null).unwrap()["signed_in"], Value::Null);
    let wrong_password = json!({"username": "manager", "password": "not the password"});
    assert_eq!(call(&state, "sign_in", wrong_password).unwrap_err().code, ApiErrorCode::WrongCredentials);
    call(&state, "sign_in", samples["sign_in"].clone()).unwrap();
    call(&state, "policy", Value::Null).unwrap();
}

#[test]
fn an_instructor_cannot_back_up_restore_enrol_or_change_settings_through_the_commands() {
    let (_dir, state) = state();
    call(&state, "setup_desk", setup_args()).unwrap();
    let samples = samples();
    call(&state, "add_staff", samples["add_staff"].clone()).unwrap();
    call(&state, "sign_out", Value::Null).unwrap();
    call(&state, "sign_in", json!({"username": "sara", "password": PASSWORD})).unwrap();
    for name in [
        "backup_now",
        "restore_backup",
        "sync_enrol",
        "set_policy",
        "set_membership_terms",
        "set_holidays",
        "clear_setting_override",
        "staff_list",
        "set_staff_active",
        "add_activity_kind",
        "set_activity_kind_retired",
        "close_cash_day",
        "receipt_problems",
        "set_language_institute",
        "create_workshop",
        "edit_workshop",
        "cancel_workshop",
        "set_village_slot",
        "set_village_retired",
    ] {
        let e = call(&state, name, samples[name].clone()).unwrap_err();
        assert_eq!(e.code, ApiErrorCode::Forbidden, "{name}: {e:?}");
    }
}
