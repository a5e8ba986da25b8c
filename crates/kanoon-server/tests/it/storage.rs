//! The `Storage` trait called directly, as the HTTP layer and the admin
//! commands call it (from blocking threads), on both backends.

use std::sync::atomic::{AtomicBool, Ordering};

use kanoon_domain::entities::{Center, CenterKind};
use kanoon_protocol::OpBody;
use kanoon_protocol::wire::{Cursor, EnrolRequest, MAX_PUSH_OPS, PushResponse};
use kanoon_server::testing::off_async;
use kanoon_server::{DeviceAuth, ErrorCode, IncomingOp, Storage};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Backend, Desk, TestDatabase, loan_op, title_op};

fn enrol_request(code: &str, center_id: Option<Uuid>, device_id: Uuid, desk_number: u8) -> EnrolRequest {
    EnrolRequest {
        code: code.to_owned(), center_id, device_id, desk_number, device_name: format!("میز {desk_number}")
    }
}

fn incoming(ops: &[kanoon_protocol::Op]) -> Vec<IncomingOp> {
    ops.iter().map(|op| IncomingOp::from_op(op.clone()).unwrap()).collect()
}

/// A desk of center `code` enrolled through the storage.
fn enrol(s: &dyn Storage, code: &str, desk_number: u8) -> Desk {
    let device_id = Uuid::now_v7();
    let enrolled = s.enrol(&enrol_request(&s.create_enrol_code(code).unwrap(), None, device_id, desk_number)).unwrap();
    Desk { device_id, center_id: enrolled.center_id, token: enrolled.token }
}

async fn centers_codes_and_enrolment(backend: Backend) {
    let db = TestDatabase::create(backend);
    off_async(|| {
        let store = db.open();
        let s = store.storage();
        let center = s.add_center("۱۲۳۴", " مرکز ۱ ", CenterKind::Fixed).unwrap();
        assert_eq!((center.code.as_str(), center.name.as_str()), ("1234", "مرکز ۱"));
        assert_eq!(center.id, Center::id_for_code("1234"));
        assert_eq!(s.add_center("1234", "again", CenterKind::Fixed).unwrap_err().code, ErrorCode::Conflict);
        assert_eq!(s.add_center("12a", "x", CenterKind::Fixed).unwrap_err().code, ErrorCode::BadRequest);
        assert_eq!(s.add_center("99", "  ", CenterKind::Fixed).unwrap_err().code, ErrorCode::BadRequest);
        assert_eq!(s.create_enrol_code("99").unwrap_err().code, ErrorCode::NotFound);
        s.add_center("5678", "مرکز سیار", CenterKind::Mobile).unwrap();

        let device_id = Uuid::now_v7();
        let (code, other) = (s.create_enrol_code("1234").unwrap(), s.create_enrol_code("5678").unwrap());
        assert_ne!(code, other);
        // A code of another center is refused and stays unused.
        let wrong = s.enrol(&enrol_request(&other, Some(center.id), device_id, 1)).unwrap_err();
        assert_eq!(wrong.code, ErrorCode::EnrolCodeOfOtherCenter);
        assert_eq!(s.enrol(&enrol_request(&code, None, device_id, 0)).unwrap_err().code, ErrorCode::BadRequest);
        assert_eq!(s.enrol(&enrol_request("", None, device_id, 1)).unwrap_err().code, ErrorCode::EnrolCodeUnknown);
        let enrolled = s.enrol(&enrol_request(&code, Some(center.id), device_id, 1)).unwrap();
        assert_eq!((enrolled.center_id, enrolled.center_code.as_str()), (center.id, "1234"));
        assert_eq!(s.enrol(&enrol_request(&code, None, device_id, 1)).unwrap_err().code, ErrorCode::EnrolCodeUnknown);
        // The same device at another center: refused, the code stays unused.
        let elsewhere = s.enrol(&enrol_request(&other, None, device_id, 1)).unwrap_err();
        assert_eq!(elsewhere.code, ErrorCode::DeviceOfOtherCenter);
        // A desk number in use: refused, the code stays unused.
        let taken = s.create_enrol_code("1234").unwrap();
        assert_eq!(
            s.enrol(&enrol_request(&taken, None, Uuid::now_v7(), 1)).unwrap_err().code,
            ErrorCode::DeskNumberTaken
        );
        s.enrol(&enrol_request(&taken, None, Uuid::now_v7(), 2)).unwrap();
        s.enrol(&enrol_request(&other, None, Uuid::now_v7(), 1)).unwrap();

        let devices = s.devices().unwrap();
        let listed: Vec<_> = devices.iter().map(|d| (d.center_code.as_str(), d.desk_number)).collect();
        assert_eq!(listed, vec![("1234", 1), ("1234", 2), ("5678", 1)]);
        assert!(devices.iter().all(|d| d.last_seen_at.is_none()));
        let first = &devices[0];
        assert_eq!((first.device_id, first.center_id, first.name.as_str()), (device_id, center.id, "میز 1"));
        // Times as ISO 8601 UTC with milliseconds, whatever the backend.
        assert_eq!(first.enrolled_at.len(), "2025-01-01T00:00:00.000Z".len(), "{}", first.enrolled_at);
        assert!(first.enrolled_at.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(&first.enrolled_at).is_ok());

        // A token finds its device (and marks it seen); nothing else does.
        let auth = s.device_for_token(&enrolled.token).unwrap();
        assert_eq!(auth, Some(DeviceAuth { device_id, center_id: center.id }));
        for token in ["", "nope", &"x".repeat(300), &kanoon_server::hash_secret(&enrolled.token)] {
            assert_eq!(s.device_for_token(token).unwrap(), None);
        }
        let seen = s.devices().unwrap().into_iter().find(|d| d.device_id == device_id).unwrap().last_seen_at;
        assert!(seen.as_ref().is_some_and(|t| t.len() == 24 && t.ends_with('Z')), "{seen:?}");
        // Enrolling again, with a code made for it: a new token, the old one stops working.
        let again =
            s.enrol(&enrol_request(&s.create_reenrol_code("1234", device_id).unwrap(), None, device_id, 1)).unwrap();
        assert_eq!(s.device_for_token(&enrolled.token).unwrap(), None);
        assert!(s.device_for_token(&again.token).unwrap().is_some());
        assert_eq!(s.devices().unwrap().len(), 3);
        s.health().unwrap();
    });
}

async fn push_is_idempotent_and_refuses_others_ops(backend: Backend) {
    let db = TestDatabase::create(backend);
    off_async(|| {
        let store = db.open();
        let s = store.storage();
        s.add_center("1234", "مرکز ۱", CenterKind::Fixed).unwrap();
        s.add_center("5678", "مرکز ۲", CenterKind::Fixed).unwrap();
        let desk = enrol(s.as_ref(), "1234", 1);
        let other = enrol(s.as_ref(), "5678", 1);
        let ops = incoming(&[loan_op(&desk, 1000), title_op(&desk, 1001, "کلیدر"), loan_op(&desk, 1002)]);
        let ids: Vec<_> = ops.iter().map(|o| o.op.op_id).collect();

        let first = s.push(desk.center_id, desk.device_id, &ops).unwrap();
        assert_eq!((first.accepted, first.duplicates.len(), first.rejected.len()), (ids.clone(), 0, 0));
        let replay = s.push(desk.center_id, desk.device_id, &ops).unwrap();
        assert_eq!((replay.accepted.len(), replay.duplicates, replay.rejected.len()), (0, ids.clone(), 0));

        // Same id, other content: rejected, the stored op kept; the rest of the batch goes in.
        let mut forged = ops[0].op.clone();
        forged.body = OpBody::Event { kind: "return".into(), data: json!({}) };
        let new = loan_op(&desk, 1003);
        let mixed = s.push(desk.center_id, desk.device_id, &incoming(&[forged, new.clone(), new.clone()])).unwrap();
        assert_eq!(mixed.rejected.iter().map(|r| r.op_id).collect::<Vec<_>>(), vec![ids[0]]);
        assert_eq!((mixed.accepted, mixed.duplicates), (vec![new.op_id], vec![new.op_id]));
        assert_eq!(store.op_count(), 4);
        assert_eq!(store.stored_op_json(ids[0]), ops[0].json);

        // Ops of another center or another device: refused whole.
        let refused = s.push(other.center_id, other.device_id, &ops).unwrap_err();
        assert_eq!(refused.code, ErrorCode::OpOfOtherCenter);
        let mut foreign = loan_op(&desk, 1004);
        foreign.device_id = Uuid::now_v7();
        let batch = incoming(&[loan_op(&desk, 1005), foreign]);
        assert_eq!(s.push(desk.center_id, desk.device_id, &batch).unwrap_err().code, ErrorCode::OpOfOtherDevice);
        let too_many = incoming(&(0..=MAX_PUSH_OPS as i64).map(|i| loan_op(&desk, 2000 + i)).collect::<Vec<_>>());
        assert_eq!(s.push(desk.center_id, desk.device_id, &too_many).unwrap_err().code, ErrorCode::BatchTooLarge);
        assert_eq!(store.op_count(), 4);
        let empty = s.push_at(desk.center_id, desk.device_id, &[], 42).unwrap();
        assert_eq!(empty, PushResponse { server_time_ms: Some(42), ..Default::default() });
    });
}

async fn pull_follows_the_cursor_within_the_scope(backend: Backend) {
    let db = TestDatabase::create(backend);
    off_async(|| {
        let store = db.open();
        let s = store.storage();
        s.add_center("1111", "مرکز ۱", CenterKind::Fixed).unwrap();
        s.add_center("2222", "مرکز ۲", CenterKind::Fixed).unwrap();
        let (a, b) = (enrol(s.as_ref(), "1111", 1), enrol(s.as_ref(), "2222", 1));
        let (a_loan, a_title, b_loan) = (loan_op(&a, 1), title_op(&a, 2, "سووشون"), loan_op(&b, 3));
        s.push(a.center_id, a.device_id, &incoming(&[a_loan.clone(), a_title.clone()])).unwrap();
        s.push(b.center_id, b.device_id, &incoming(std::slice::from_ref(&b_loan))).unwrap();
        let epoch = s.epoch();
        assert!((1..=1 << 53).contains(&epoch));

        let page = s.pull(b.center_id, Cursor::default(), 1).unwrap();
        assert_eq!((page.ops, page.more, page.cursor.epoch), (vec![a_title.clone()], true, epoch));
        let next = s.pull(b.center_id, page.cursor, 10).unwrap();
        assert_eq!((next.ops, next.more), (vec![b_loan], false));
        let end = s.pull(b.center_id, next.cursor, 10).unwrap();
        assert_eq!((end.ops.len(), end.more, end.cursor), (0, false, next.cursor));
        let all_a = s.pull(a.center_id, Cursor { epoch: 0, seq: 0 }, 0).unwrap();
        assert_eq!((all_a.ops, all_a.more), (vec![a_loan], true), "a limit of 0 is 1");

        let other_epoch = s.pull(a.center_id, Cursor { epoch: epoch + 1, seq: 0 }, 10).unwrap_err();
        assert_eq!(other_epoch.code, ErrorCode::StaleCursor);
        assert!(other_epoch.message.contains("epoch changed: bootstrap again"), "{}", other_epoch.message);
        let past = s.pull(a.center_id, Cursor { epoch, seq: next.cursor.seq + 1 }, 10).unwrap_err();
        assert_eq!(past.code, ErrorCode::StaleCursor);
        assert!(past.message.contains("past the end of the log"), "{}", past.message);
    });
}

async fn reopening_keeps_the_epoch_and_the_data(backend: Backend) {
    let db = TestDatabase::create(backend);
    off_async(|| {
        let first = db.open();
        first.storage().add_center("1234", "مرکز", CenterKind::Fixed).unwrap();
        let epoch = first.storage().epoch();
        drop(first);
        let again = db.open();
        assert_eq!(again.storage().epoch(), epoch);
        let clash = again.storage().add_center("1234", "مرکز", CenterKind::Fixed).unwrap_err();
        assert_eq!(clash.code, ErrorCode::Conflict);
    });
}

/// Writers push concurrently while a desk pulls page after page: the pulls
/// must never move the cursor past an op that commits later (the
/// watermark), so every op is pulled exactly once.
async fn concurrent_pushes_never_let_a_pull_skip_an_op(backend: Backend) {
    const WRITERS: u8 = 4;
    const BATCHES: usize = 60;
    const PER_BATCH: usize = 4;
    let db = TestDatabase::create(backend);
    off_async(|| {
        let store = db.open();
        let s = store.storage();
        let center = s.add_center("1234", "مرکز", CenterKind::Fixed).unwrap().id;
        let desks: Vec<Desk> = (1..=WRITERS).map(|n| enrol(s.as_ref(), "1234", n)).collect();
        let done = AtomicBool::new(false);
        let (pushed, pulled) = std::thread::scope(|scope| {
            let writers: Vec<_> = desks
                .iter()
                .map(|desk| {
                    let s = &s;
                    scope.spawn(move || {
                        let mut accepted = Vec::new();
                        for b in 0..BATCHES {
                            let ops: Vec<_> =
                                (0..PER_BATCH).map(|i| loan_op(desk, (b * PER_BATCH + i) as i64)).collect();
                            let response = s.push(center, desk.device_id, &incoming(&ops)).unwrap();
                            assert_eq!(response.accepted.len(), PER_BATCH);
                            accepted.extend(response.accepted);
                        }
                        accepted
                    })
                })
                .collect();
            let reader = scope.spawn(|| {
                let (mut cursor, mut seen) = (Cursor::default(), Vec::new());
                loop {
                    // Read before pulling: a pull begun after every writer
                    // finished sees everything.
                    let finished = done.load(Ordering::SeqCst);
                    let page = s.pull(center, cursor, 7).unwrap();
                    assert!(page.cursor.seq >= cursor.seq);
                    seen.extend(page.ops.iter().map(|o| o.op_id));
                    cursor = page.cursor;
                    if finished && !page.more {
                        return seen;
                    }
                }
            });
            let pushed: Vec<Uuid> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
            done.store(true, Ordering::SeqCst);
            (pushed, reader.join().unwrap())
        });
        assert_eq!(pushed.len(), usize::from(WRITERS) * BATCHES * PER_BATCH);
        let (mut pushed, mut sorted) = (pushed, pulled.clone());
        pushed.sort();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), pulled.len(), "an op was pulled twice");
        assert_eq!(sorted, pushed, "a pull skipped an op that committed later");
    });
}

backend_tests!(
    centers_codes_and_enrolment,
    push_is_idempotent_and_refuses_others_ops,
    pull_follows_the_cursor_within_the_scope,
    reopening_keeps_the_epoch_and_the_data,
    concurrent_pushes_never_let_a_pull_skip_an_op,
);

/// PostgreSQL: a push in flight — registered, holding the next `seq`, not
/// yet committed — caps every pull and snapshot below it, however many
/// later pushes commit meanwhile; once it ends, the pull goes on. The
/// in-flight push is played by a second connection holding the marker the
/// push takes (`IN_FLIGHT_SQL`: a shared advisory lock keyed by the next
/// `seq`).
#[test]
fn postgres_pull_and_snapshot_stay_below_a_push_in_flight() {
    if kanoon_server::testing::postgres_skipped() {
        return;
    }
    let db = TestDatabase::create(Backend::Postgres);
    let TestDatabase::Postgres(pg) = &db else { unreachable!() };
    let store = db.open();
    let s = store.storage();
    let center = s.add_center("1234", "مرکز", CenterKind::Fixed).unwrap().id;
    let desk = enrol(s.as_ref(), "1234", 1);
    let first = loan_op(&desk, 1);
    s.push(center, desk.device_id, &incoming(std::slice::from_ref(&first))).unwrap();
    let mut in_flight = ::postgres::Client::connect(pg.url(), ::postgres::NoTls).unwrap();
    let mut tx = in_flight.transaction().unwrap();
    let next: i64 = tx
        .query_one("SELECT pg_sequence_last_value(pg_get_serial_sequence('ops', 'seq')::regclass) + 1", &[])
        .unwrap()
        .get(0);
    tx.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&next]).unwrap();
    let later: Vec<_> = (2..6).map(|i| loan_op(&desk, i)).collect();
    s.push(center, desk.device_id, &incoming(&later)).unwrap();
    let page = s.pull(center, Cursor::default(), 100).unwrap();
    assert_eq!(
        page.ops.iter().map(|o| o.op_id).collect::<Vec<_>>(),
        vec![first.op_id],
        "a pull passed a push in flight"
    );
    assert!(page.cursor.seq < u64::try_from(next).unwrap());
    let snapshot = s.snapshot(center).unwrap();
    assert!(snapshot.cursor.seq < u64::try_from(next).unwrap(), "a snapshot's cursor passed a push in flight");
    // The pushes' outcome does not wait for the one in flight.
    tx.rollback().unwrap();
    let page = s.pull(center, page.cursor, 100).unwrap();
    assert_eq!(page.ops.iter().map(|o| o.op_id).collect::<Vec<_>>(), later.iter().map(|o| o.op_id).collect::<Vec<_>>());
}
