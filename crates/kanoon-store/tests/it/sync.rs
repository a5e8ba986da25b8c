//! Two desks of one center exchanging ops (the transport is a vector here):
//! records merge field by field, events by id, conflicts become exceptions.

use std::sync::Arc;

use kanoon_protocol::wire::Cursor;
use kanoon_store::catalog::CopyStatus;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::members::MemberView;
use kanoon_store::sync::ApplyReport;
use kanoon_store::{Desk, ManualClock, SetupRequest};

use crate::support::*;

struct Pair {
    a: Desk,
    b: Desk,
    clock: ManualClock,
    seq: u64,
}

fn pair() -> Pair {
    let f = desk();
    let mut b = Desk::open_in_memory().unwrap().with_clock(Arc::new(f.clock.clone()));
    b.setup(SetupRequest { desk_number: 2, manager_username: "manager2".into(), ..setup_request() }, PASSWORD).unwrap();
    Pair { a: f.desk, b, clock: f.clock, seq: 0 }
}

/// Everything `from` has not pushed yet reaches `to`.
fn send(from: &mut Desk, to: &mut Desk, seq: &mut u64) -> ApplyReport {
    let ops = from.ops_to_push(100_000).unwrap();
    *seq += ops.len() as u64;
    let report = to.apply_pulled(&ops, Cursor { epoch: 1, seq: *seq }).unwrap();
    from.mark_pushed(&ops.iter().map(|o| o.op_id).collect::<Vec<_>>()).unwrap();
    report
}

fn sync_both(p: &mut Pair) {
    send(&mut p.a, &mut p.b, &mut p.seq);
    send(&mut p.b, &mut p.a, &mut p.seq);
}

fn lend(desk: &mut Desk, member: &MemberView, number: &str) -> BookStatus {
    desk.check_out(CheckOutRequest::new(member.id, [number]).confirmed()).unwrap().books[0].status
}

#[test]
fn a_second_desk_sees_the_first_desks_members_books_and_loans_and_can_return_them() {
    let mut p = pair();
    books(&mut p.a, "قصه‌های مجید", 1, 3);
    let m = register(&mut p.a, "سارا", "کریمی", 31);
    assert_eq!(lend(&mut p.a, &m, "1"), BookStatus::Lent);
    let not_yet_applied = |o: &kanoon_protocol::Op| matches!(o.entity.as_str(), "staff" | "policy");
    let waiting = p.a.ops_to_push(10_000).unwrap().iter().filter(|o| not_yet_applied(o)).count();
    let report = send(&mut p.a, &mut p.b, &mut p.seq);
    // Centers, members, titles, copies and events apply; staff and settings
    // records are kept for the sync issue.
    assert_eq!((report.kept, report.exceptions), (waiting, 0), "{report:?}");

    let on_b = p.b.member_by_number(&m.member_number).unwrap();
    assert_eq!(on_b.full_name, "سارا کریمی");
    assert!(on_b.membership.active);
    assert!(matches!(p.b.copy_by_registration_number("1").unwrap().status, CopyStatus::OnLoan { .. }));
    assert_eq!(p.b.find_members("كريمي", 5).unwrap()[0].id, m.id);
    assert_eq!(lend(&mut p.b, &on_b, "1"), BookStatus::Refused);

    p.b.check_in("1").unwrap();
    send(&mut p.b, &mut p.a, &mut p.seq);
    assert!(p.a.open_loans_of(m.id).unwrap().is_empty());
    assert_eq!(p.a.all_open_loans().unwrap(), p.b.all_open_loans().unwrap());
}

#[test]
fn the_same_copy_lent_on_two_offline_desks_is_one_exception_on_both() {
    let mut p = pair();
    books(&mut p.a, "کلاغ‌ها", 1, 2);
    let m = register(&mut p.a, "علی", "رضایی", 32);
    let n = register(&mut p.a, "مینا", "نوری", 33);
    sync_both(&mut p);
    // Both offline: each lends copy 2.
    assert_eq!(lend(&mut p.a, &m, "2"), BookStatus::Lent);
    assert_eq!(lend(&mut p.b, &n, "2"), BookStatus::Lent);
    sync_both(&mut p);
    sync_both(&mut p);

    for desk in [&p.a, &p.b] {
        let ex: Vec<_> = desk.sync_exceptions().unwrap().into_iter().filter(|e| e.code == "copy_lent_twice").collect();
        assert_eq!(ex.len(), 1, "{ex:?}");
        // Both loans happened in the real world and stay recorded.
        assert_eq!(desk.all_open_loans().unwrap().len(), 2);
    }
    let id = |d: &Desk| d.sync_exceptions().unwrap().into_iter().find(|e| e.code == "copy_lent_twice").map(|e| e.id);
    assert_eq!(id(&p.a), id(&p.b), "the exception's id comes from the events");
    assert_eq!(p.a.all_open_loans().unwrap(), p.b.all_open_loans().unwrap());
}

#[test]
fn two_offline_edits_of_one_field_converge_and_are_reported() {
    let mut p = pair();
    let m = register(&mut p.a, "نیما", "فرهادی", 34);
    sync_both(&mut p);
    let mut on_a = p.a.member(m.id).unwrap().details;
    on_a.guardian_phone = Some("09351111111".into());
    p.a.edit_member(m.id, on_a).unwrap();
    p.clock.advance(chrono::Duration::seconds(5));
    let mut on_b = p.b.member(m.id).unwrap().details;
    on_b.guardian_phone = Some("09192222222".into());
    on_b.address = "اراک، خیابان امام".into();
    p.b.edit_member(m.id, on_b).unwrap();
    sync_both(&mut p);

    let (a, b) = (p.a.member(m.id).unwrap(), p.b.member(m.id).unwrap());
    assert_eq!(a.guardian_phone, b.guardian_phone);
    assert_eq!(a.guardian_phone.as_deref(), Some("09192222222"), "the later edit wins");
    assert_eq!(a.details.address, "اراک، خیابان امام", "an edit of another field is not a conflict");
    for desk in [&p.a, &p.b] {
        let ex: Vec<_> = desk.sync_exceptions().unwrap().into_iter().filter(|e| e.code == "concurrent_edit").collect();
        assert_eq!(ex.len(), 1, "{ex:?}");
        assert_eq!(ex[0].detail["field"], "guardian_phone");
    }
}

#[test]
fn a_page_applied_twice_changes_nothing_and_unknown_kinds_are_kept() {
    let mut p = pair();
    books(&mut p.a, "تکرار", 1, 1);
    let m = register(&mut p.a, "رها", "امینی", 35);
    lend(&mut p.a, &m, "1");
    let mut ops = p.a.ops_to_push(10_000).unwrap();
    let mut future = ops[0].clone();
    future.op_id = uuid::Uuid::now_v7();
    future.entity = kanoon_protocol::EntityKind::new("workshop");
    ops.push(future);
    let first = p.b.apply_pulled(&ops, Cursor { epoch: 1, seq: 10 }).unwrap();
    let waiting = ops.iter().filter(|o| matches!(o.entity.as_str(), "staff" | "policy")).count();
    assert_eq!(first.kept, waiting + 1, "the workshop op and the records this version keeps");
    let loans = p.b.all_open_loans().unwrap();
    let again = p.b.apply_pulled(&ops, Cursor { epoch: 1, seq: 10 }).unwrap();
    assert_eq!(again.duplicates, ops.len());
    assert_eq!(again.applied, 0);
    assert_eq!(p.b.all_open_loans().unwrap(), loans);
    assert_eq!(p.b.sync_cursor().unwrap(), Some(Cursor { epoch: 1, seq: 10 }));
}

#[test]
fn an_op_that_arrives_before_what_it_needs_is_applied_once_that_arrives() {
    let mut p = pair();
    books(&mut p.a, "ترتیب", 1, 1);
    let mut ops = p.a.ops_to_push(10_000).unwrap();
    // The copy's creation before its title's.
    let title = ops.iter().position(|o| o.entity.as_str() == "title").unwrap();
    let title_op = ops.remove(title);
    ops.push(title_op);
    let report = p.b.apply_pulled(&ops, Cursor { epoch: 1, seq: ops.len() as u64 }).unwrap();
    assert!(p.b.copy_by_registration_number("1").is_ok(), "{report:?}");
}

#[test]
fn a_desk_restored_from_an_older_backup_gets_back_what_it_wrote_since_from_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start_time());
    let mut a = Desk::open(&dir.path().join("center.sqlite")).unwrap().with_clock(Arc::new(clock.clone()));
    a.setup(setup_request(), PASSWORD).unwrap();
    books(&mut a, "پشتیبان", 1, 1);
    let m = register(&mut a, "نسرین", "صدری", 36);
    std::fs::create_dir(dir.path().join("usb")).unwrap();
    let backup = a.backup_to(&dir.path().join("usb"), 3).unwrap();
    assert_eq!(lend(&mut a, &m, "1"), BookStatus::Lent);
    // Everything reached the server before the disk failed.
    let on_server = a.ops_to_push(10_000).unwrap();
    clock.advance(chrono::Duration::minutes(1));
    a.restore_from(&backup).unwrap();
    assert!(a.open_loans_of(m.id).unwrap().is_empty(), "the backup predates the loan");
    a.apply_pulled(&on_server, Cursor { epoch: 1, seq: on_server.len() as u64 }).unwrap();
    assert_eq!(a.open_loans_of(m.id).unwrap().len(), 1, "the loan came back from the server");
}

/// Both desks lent copy 1 offline and exchanged their ops: one
/// copy_lent_twice exception on each. Returns its id.
fn double_loan(p: &mut Pair) -> uuid::Uuid {
    books(&mut p.a, "ماهی سیاه کوچولو", 1, 1);
    let m = register(&mut p.a, "سارا", "کریمی", 41);
    let n = register(&mut p.a, "مینا", "نوری", 42);
    sync_both(p);
    assert_eq!(lend(&mut p.a, &m, "1"), BookStatus::Lent);
    assert_eq!(lend(&mut p.b, &n, "1"), BookStatus::Lent);
    sync_both(p);
    sync_both(p);
    let ids: Vec<_> = p.a.sync_exceptions().unwrap().into_iter().filter(|e| e.code == "copy_lent_twice").collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].id
}

fn lent_twice(desk: &Desk) -> Vec<kanoon_store::sync::SyncException> {
    desk.sync_exceptions().unwrap().into_iter().filter(|e| e.code == "copy_lent_twice").collect()
}

#[test]
fn an_exception_resolved_on_one_desk_is_resolved_on_the_other_with_its_note() {
    let mut p = pair();
    let id = double_loan(&mut p);
    let ex = lent_twice(&p.b);
    assert!(!ex[0].resolved && ex[0].resolution.is_none());

    let done = p.a.resolve_sync_exception(id, "  کتاب از مینا پس گرفته شد.  ").unwrap();
    assert!(done.resolved);
    let r = done.resolution.clone().unwrap();
    assert_eq!(r.note, "کتاب از مینا پس گرفته شد.", "trimmed");
    assert_eq!(r.staff_name, "زهرا احمدی");
    assert_eq!(r.resolved_at, start_time());
    let op = p.a.ops_to_push(10).unwrap().pop().unwrap();
    assert_eq!((op.entity.as_str(), op.entity_id, op.op_id), ("sync_exception", id, r.op_id));

    sync_both(&mut p);
    for desk in [&p.a, &p.b] {
        let ex = lent_twice(desk);
        assert_eq!(ex.len(), 1, "{ex:?}");
        assert!(ex[0].resolved);
        assert_eq!(ex[0].resolution.as_ref(), Some(&r));
    }
    // Its own op coming back changes nothing.
    sync_both(&mut p);
    assert_eq!(lent_twice(&p.a)[0].resolution.as_ref(), Some(&r));
}

#[test]
fn resolving_twice_an_unknown_id_or_without_a_note_is_refused_in_persian() {
    use kanoon_store::ErrorCode;
    let mut p = pair();
    let id = double_loan(&mut p);
    let waiting = p.a.outbox_len().unwrap();
    for note in ["", "   ", &"ن".repeat(501)] {
        let e = p.a.resolve_sync_exception(id, note).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
        assert!(e.to_string().contains("یادداشت"), "{e}");
    }
    let e = p.a.resolve_sync_exception(uuid::Uuid::now_v7(), "حل شد").unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    assert_eq!(p.a.outbox_len().unwrap(), waiting, "a refusal writes nothing");

    p.a.resolve_sync_exception(id, "حل شد").unwrap();
    assert_eq!(p.a.outbox_len().unwrap(), waiting + 1, "one op");
    let e = p.a.resolve_sync_exception(id, "دوباره").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    assert!(e.to_string().contains("پیش‌تر حل شده"), "{e}");
    // Resolved on another desk: the same refusal there.
    sync_both(&mut p);
    assert_eq!(p.b.resolve_sync_exception(id, "من هم").unwrap_err().code(), ErrorCode::Conflict);
}

#[test]
fn a_resolution_that_arrives_before_its_exception_is_applied_when_the_exception_is_recorded() {
    let mut p = pair();
    books(&mut p.a, "کلاغ‌ها", 1, 1);
    let m = register(&mut p.a, "علی", "رضایی", 43);
    let n = register(&mut p.a, "نیلوفر", "صادقی", 44);
    sync_both(&mut p);
    assert_eq!(lend(&mut p.a, &m, "1"), BookStatus::Lent);
    assert_eq!(lend(&mut p.b, &n, "1"), BookStatus::Lent);
    // A learns of B's loan, sees the exception and resolves it before B has
    // heard of A's loan.
    send(&mut p.b, &mut p.a, &mut p.seq);
    let id = lent_twice(&p.a)[0].id;
    p.a.resolve_sync_exception(id, "با عضو تماس گرفته شد").unwrap();
    let ops = p.a.ops_to_push(10_000).unwrap();
    let (resolution, rest): (Vec<_>, Vec<_>) = ops.into_iter().partition(|o| o.entity.as_str() == "sync_exception");
    assert_eq!(resolution.len(), 1);
    let report = p.b.apply_pulled(&resolution, Cursor { epoch: 1, seq: 100 }).unwrap();
    assert_eq!((report.applied, report.kept), (1, 0), "{report:?}");
    assert!(lent_twice(&p.b).is_empty(), "not recorded yet on B");

    p.b.apply_pulled(&rest, Cursor { epoch: 1, seq: 200 }).unwrap();
    let ex = lent_twice(&p.b);
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0].id, id);
    assert!(ex[0].resolved, "recorded resolved");
    assert_eq!(ex[0].resolution.as_ref().unwrap().note, "با عضو تماس گرفته شد");
}

#[test]
fn a_resolved_double_loan_stays_resolved_when_the_copys_events_change() {
    let mut p = pair();
    let id = double_loan(&mut p);
    p.a.resolve_sync_exception(id, "یکی از امانت‌ها برگشت").unwrap();
    sync_both(&mut p);
    // A return on B changes the copy's log: its double loans are recomputed
    // on A (deleted and derived again) and the resolution survives.
    p.b.check_in("1").unwrap();
    sync_both(&mut p);
    sync_both(&mut p);
    for desk in [&p.a, &p.b] {
        let ex = lent_twice(desk);
        assert_eq!(ex.len(), 1, "{ex:?}");
        assert!(ex[0].resolved, "{ex:?}");
        assert_eq!(ex[0].resolution.as_ref().unwrap().note, "یکی از امانت‌ها برگشت");
    }
}

#[test]
fn two_desks_resolving_one_exception_end_with_the_same_resolution() {
    let mut p = pair();
    let id = double_loan(&mut p);
    p.a.resolve_sync_exception(id, "از میز یک").unwrap();
    p.clock.advance(chrono::Duration::seconds(1));
    p.b.resolve_sync_exception(id, "از میز دو").unwrap();
    sync_both(&mut p);
    sync_both(&mut p);
    let (a, b) = (lent_twice(&p.a), lent_twice(&p.b));
    assert_eq!(a[0].resolution, b[0].resolution);
    assert_eq!(a[0].resolution.as_ref().unwrap().note, "از میز یک", "the earlier resolution wins");
}

/// An op of a newer version, made from one of this version's: a later
/// clock, a higher schema version, the given extra top-level fields and body.
fn newer_op(like: &kanoon_protocol::Op, extra: serde_json::Value, body: serde_json::Value) -> serde_json::Value {
    let mut json = serde_json::to_value(like).unwrap();
    json["op_id"] = serde_json::json!(uuid::Uuid::now_v7());
    json["schema_version"] = serde_json::json!(kanoon_protocol::SCHEMA_VERSION + 1);
    json["hlc"]["wall_ms"] = serde_json::json!(like.hlc.wall_ms + 60_000);
    json["body"] = body;
    json.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    json
}

#[test]
fn ops_of_a_newer_version_apply_what_this_version_knows_and_are_kept_whole() {
    let mut p = pair();
    let m = register(&mut p.a, "سارا", "کریمی", 45);
    let ops = p.a.ops_to_push(10_000).unwrap();
    let created = ops.iter().find(|o| o.entity.as_str() == "member" && o.entity_id == m.id).unwrap().clone();
    send(&mut p.a, &mut p.b, &mut p.seq);
    let base = serde_json::json!({"hlc": created.hlc, "device_id": created.device_id});
    let extra = serde_json::json!({"origin": {"app": "kanoon-desk", "version": "2.1"}});
    let patch = newer_op(
        &created,
        extra.clone(),
        serde_json::json!({"type": "patch", "fields": {
            "address": {"value": "اراک، میدان شهدا", "base": base},
            "email": {"value": "sara@example.ir", "base": null},
        }}),
    );
    let merge = newer_op(&created, extra, serde_json::json!({"type": "merge", "into": uuid::Uuid::now_v7()}));
    let pulled: Vec<kanoon_protocol::Op> =
        [&patch, &merge].iter().map(|j| serde_json::from_value((*j).clone()).unwrap()).collect();
    let report = p.b.apply_pulled(&pulled, Cursor { epoch: 1, seq: 1_000 }).unwrap();
    assert_eq!((report.applied, report.kept, report.exceptions), (1, 1, 0), "{report:?}");

    // The known field applied; the unknown one is not an exception.
    assert_eq!(p.b.member(m.id).unwrap().details.address, "اراک، میدان شهدا");
    assert!(p.b.sync_exceptions().unwrap().is_empty());
    // Both kept as received, every field present.
    let id = |j: &serde_json::Value| j["op_id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap();
    assert_eq!(p.b.pulled_op(id(&patch)).unwrap(), Some((patch.clone(), true)));
    assert_eq!(p.b.pulled_op(id(&merge)).unwrap(), Some((merge.clone(), false)), "kept for a newer version");

    // B edits the member afterwards: its patch is of this version and
    // replaces the newer desk's address; the unknown field is not in it.
    let mut details = p.b.member(m.id).unwrap().details;
    details.guardian_phone = Some("09351112233".into());
    details.address = "اراک، خیابان قائم".into();
    p.b.edit_member(m.id, details).unwrap();
    let edit = p.b.ops_to_push(10_000).unwrap().pop().unwrap();
    assert_eq!(edit.schema_version, kanoon_protocol::SCHEMA_VERSION);
    let kanoon_protocol::OpBody::Patch { fields } = &edit.body else { panic!("{edit:?}") };
    assert!(!fields.contains_key("email"));
    assert_eq!(fields["address"].base.unwrap().hlc, pulled[0].hlc, "it replaced the newer desk's value");
    send(&mut p.b, &mut p.a, &mut p.seq);
    assert_eq!(p.a.member(m.id).unwrap().details.address, "اراک، خیابان قائم");
    assert!(p.a.sync_exceptions().unwrap().is_empty(), "{:?}", p.a.sync_exceptions());
}

fn codes(desk: &Desk, code: &str) -> Vec<kanoon_store::sync::SyncException> {
    desk.sync_exceptions().unwrap().into_iter().filter(|e| e.code == code).collect()
}

#[test]
fn one_national_id_registered_at_two_desks_apart_is_one_exception_on_each_and_both_members_stay() {
    let mut p = pair();
    let on_a = register(&mut p.a, "سارا", "کریمی", 77);
    let on_b = register(&mut p.b, "سارا", "کریمی", 77);
    let other = register(&mut p.b, "مینا", "احمدی", 78);
    sync_both(&mut p);
    send(&mut p.a, &mut p.b, &mut p.seq);
    let (ex_a, ex_b) = (codes(&p.a, "duplicate_national_id"), codes(&p.b, "duplicate_national_id"));
    assert_eq!((ex_a.len(), ex_b.len()), (1, 1), "{ex_a:?} {ex_b:?}");
    assert_eq!(ex_a[0].id, ex_b[0].id);
    assert_eq!(ex_a[0].detail["national_id"], national_id(77));
    // Nothing is lost: both members are on both desks, the third member too.
    for desk in [&p.a, &p.b] {
        for m in [&on_a, &on_b, &other] {
            assert_eq!(desk.member_by_number(&m.member_number).unwrap().id, m.id);
        }
    }
}

#[test]
fn two_pcs_with_one_desk_number_clash_on_a_member_number_and_say_so() {
    let mut p = pair();
    // A second PC set up as desk 1 too (before either was enrolled).
    let mut c = Desk::open_in_memory().unwrap().with_clock(Arc::new(p.clock.clone()));
    c.setup(SetupRequest { manager_username: "manager3".into(), ..setup_request() }, PASSWORD).unwrap();
    let first = register(&mut p.a, "سارا", "کریمی", 81);
    let second = register(&mut c, "مینا", "احمدی", 82);
    assert_eq!(first.member_number, second.member_number);
    let member_op = c
        .ops_to_push(1000)
        .unwrap()
        .into_iter()
        .find(|o| o.entity.as_str() == "member" && o.entity_id == second.id)
        .unwrap()
        .op_id;
    let report = send(&mut c, &mut p.a, &mut p.seq);
    assert!(report.kept > 0, "{report:?}");
    let clash = codes(&p.a, "member_number_clash");
    assert_eq!(clash.len(), 1, "{clash:?}");
    assert_eq!(clash[0].detail["member_number"], first.member_number.as_str());
    // Desk 1's own member is untouched; the other waits in the inbox, not lost.
    assert_eq!(p.a.member_by_number(&first.member_number).unwrap().id, first.id);
    let (_, applied) = p.a.pulled_op(member_op).unwrap().expect("kept in the inbox");
    assert!(!applied);
}

/// An op of another center's device, made from one of this center's.
fn of_other_center(
    like: &kanoon_protocol::Op,
    entity: &str,
    entity_id: uuid::Uuid,
    field: &str,
) -> kanoon_protocol::Op {
    let fields = std::collections::BTreeMap::from([(
        field.to_owned(),
        kanoon_protocol::FieldChange { value: serde_json::json!("نام ربوده"), base: None },
    )]);
    kanoon_protocol::Op {
        op_id: uuid::Uuid::now_v7(),
        device_id: uuid::Uuid::now_v7(),
        center_id: kanoon_domain::entities::Center::id_for_code("9999"),
        entity: kanoon_protocol::EntityKind::new(entity),
        entity_id,
        hlc: kanoon_protocol::Hlc::new(like.hlc.wall_ms + 60_000, 0),
        body: kanoon_protocol::OpBody::Patch { fields },
        ..like.clone()
    }
}

#[test]
fn pulled_ops_that_change_another_centers_records_are_set_aside_not_applied() {
    let mut p = pair();
    books(&mut p.a, "مال این مرکز", 1, 1);
    let m = register(&mut p.a, "سارا", "کریمی", 46);
    let ops = p.a.ops_to_push(10_000).unwrap();
    let title = ops.iter().find(|o| o.entity.as_str() == "title").unwrap().clone();
    send(&mut p.a, &mut p.b, &mut p.seq);
    let center = p.b.identity().unwrap().center.id;
    // What an older server (or a restored log) could still serve.
    let hostile = vec![
        of_other_center(&title, "title", title.entity_id, "title"),
        of_other_center(&title, "title", title.entity_id, "merged_into"),
        of_other_center(&title, "center", center, "name"),
        of_other_center(&title, "member", m.id, "first_name"),
    ];
    let report = p.b.apply_pulled(&hostile, Cursor { epoch: 1, seq: 1_000 }).unwrap();
    assert_eq!((report.applied, report.kept, report.exceptions), (0, 4, 4), "{report:?}");
    assert_eq!(codes(&p.b, "not_owner").len(), 4);
    assert_eq!(p.b.title(title.entity_id).unwrap().details.title, "مال این مرکز");
    assert_eq!(p.b.member(m.id).unwrap().details.first_name, "سارا");
    assert!(p.b.centers().unwrap().iter().all(|c| c.name != "نام ربوده"));
    // Later pages retry what waits: these never apply, and are reported once.
    let again = send(&mut p.a, &mut p.b, &mut p.seq);
    assert_eq!((again.applied, again.exceptions), (0, 0));
    let next = p.b.apply_pulled(&[], Cursor { epoch: 1, seq: 1_001 }).unwrap();
    assert_eq!((next.applied, next.exceptions), (0, 0), "{next:?}");
    assert_eq!(p.b.title(title.entity_id).unwrap().details.title, "مال این مرکز");
    // A title created by another center is that center's to edit.
    let theirs = of_other_center(&title, "title", uuid::Uuid::now_v7(), "title");
    let edit = kanoon_protocol::Op { op_id: uuid::Uuid::now_v7(), ..theirs.clone() };
    let report = p.b.apply_pulled(&[theirs, edit], Cursor { epoch: 1, seq: 1_002 }).unwrap();
    assert_eq!(codes(&p.b, "not_owner").len(), 4, "{report:?}");
}
