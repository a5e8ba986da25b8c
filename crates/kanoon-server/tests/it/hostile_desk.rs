//! A desk with a valid token that tries to hurt the province: each probe
//! is refused with its code, nothing of the refused op is stored, and the
//! other center's desk keeps syncing.

use kanoon_protocol::bounds::{MAX_OP_BYTES, MAX_OP_DEPTH, MAX_STRING_CHARS};
use kanoon_protocol::wire::{PushResponse, RejectedOp};
use kanoon_protocol::{EntityKind, Op, OpBody};
use kanoon_server::{ErrorCode, MAX_CLOCK_AHEAD_MS};
use serde_json::json;
use uuid::Uuid;

use crate::support::{
    Backend, Desk, TestServer, loan_op, op, other_center_still_syncs, patch_op, title_op, two_centers,
};

/// The one refusal of a push of one op: its code.
fn refused(response: &PushResponse, op: &Op) -> ErrorCode {
    assert!(response.accepted.is_empty() && response.duplicates.is_empty(), "{response:?}");
    match response.rejected.as_slice() {
        [RejectedOp { op_id, code: Some(code), .. }] if *op_id == op.op_id => *code,
        other => panic!("expected one refusal of {}: {other:?}", op.op_id),
    }
}

async fn a_center_patch_of_another_center_is_not_owner_and_not_stored(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    let rename = patch_op(&a, EntityKind::CENTER, b.center_id, 1000, "name", json!("مرکز ربوده"));
    assert_eq!(refused(&server.push(&a, std::slice::from_ref(&rename)).await, &rename), ErrorCode::NotOwner);
    assert_eq!(server.op_count(), 0);
    // Its own center's record is its to change.
    let own = patch_op(&a, EntityKind::CENTER, a.center_id, 1001, "name", json!("مرکز ۱"));
    assert_eq!(server.push(&a, &[own]).await.accepted.len(), 1);
    other_center_still_syncs(&server, &b, &[rename.op_id]).await;
}

async fn a_title_of_another_center_is_edited_or_merged_only_by_it(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    let created = title_op(&b, 1000, "قصه‌های مجید");
    let title = created.entity_id;
    assert_eq!(server.push(&b, std::slice::from_ref(&created)).await.accepted.len(), 1);
    let ten_years = 10 * 365 * 24 * 3600 * 1000;
    for (field, value, wall_ms) in [
        ("title", json!("عنوان ربوده"), 2000),
        ("merged_into", json!(Uuid::now_v7()), 2001),
        ("title", json!("از آینده"), ten_years),
    ] {
        let edit = patch_op(&a, EntityKind::TITLE, title, wall_ms, field, value);
        let answer = server.push(&a, std::slice::from_ref(&edit)).await;
        assert_eq!(refused(&answer, &edit), ErrorCode::NotOwner, "{field}");
    }
    // A batch with a refused op stores the rest.
    let edit = patch_op(&a, EntityKind::TITLE, title, 2002, "title", json!("x"));
    let new_title = title_op(&a, 2003, "کتاب تازه مرکز ۱");
    let answer = server.push(&a, &[edit.clone(), new_title.clone()]).await;
    assert_eq!(answer.accepted, vec![new_title.op_id]);
    assert_eq!(answer.rejected.len(), 1);
    assert_eq!(answer.rejected[0].code, Some(ErrorCode::NotOwner));
    assert_eq!(server.op_count(), 2);
    // The creator edits its own title; A edits the one it created.
    let own = patch_op(&b, EntityKind::TITLE, title, 3000, "title", json!("قصه‌های مجید ۲"));
    assert_eq!(server.push(&b, &[own]).await.accepted.len(), 1);
    let mine = patch_op(&a, EntityKind::TITLE, new_title.entity_id, 3001, "title", json!("ویراسته"));
    assert_eq!(server.push(&a, &[mine]).await.accepted.len(), 1);
    assert_eq!(server.op_count(), 4);
    other_center_still_syncs(&server, &b, &[edit.op_id]).await;
}

async fn an_op_of_an_unknown_entity_stays_in_the_pushing_center(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    // Naming B's center record as its entity id changes nothing of B's.
    let unknown = patch_op(&a, "center_profile", b.center_id, 1000, "name", json!("ربوده"));
    assert_eq!(server.push(&a, std::slice::from_ref(&unknown)).await.accepted.len(), 1);
    assert!(server.pull(&a, "").await.ops.iter().any(|o| o.op_id == unknown.op_id));
    other_center_still_syncs(&server, &b, &[unknown.op_id]).await;
}

async fn ops_out_of_bounds_are_refused_each_and_not_stored(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    let nested = |depth: usize| {
        let mut value = json!("x");
        for _ in 0..depth {
            value = json!([value]);
        }
        value
    };
    // 125 levels deep in all (the field change's value sits at depth 4).
    let deep = patch_op(&a, EntityKind::TITLE, Uuid::now_v7(), 1000, "title", nested(121));
    let just_too_deep = patch_op(&a, EntityKind::TITLE, Uuid::now_v7(), 1000, "subjects", nested(MAX_OP_DEPTH));
    let mut long_entity = loan_op(&a, 1000);
    long_entity.entity = EntityKind::new(&"x".repeat(1 << 20));
    let mut odd_entity = loan_op(&a, 1000);
    odd_entity.entity = EntityKind::new("Circulation");
    let long_string =
        patch_op(&a, EntityKind::MEMBER, Uuid::now_v7(), 1000, "notes", json!("ب".repeat(MAX_STRING_CHARS + 1)));
    let huge = patch_op(&a, EntityKind::TITLE, Uuid::now_v7(), 1000, "notes", json!("x".repeat(7 << 20)));
    let big = patch_op(&a, EntityKind::TITLE, Uuid::now_v7(), 1000, "notes", json!(vec!["y"; MAX_OP_BYTES / 4]));
    let mut unknown_body = loan_op(&a, 1000);
    unknown_body.body = OpBody::Unknown(json!({"type": "future", "deep": nested(40)}));
    for (probe, code) in [
        (&deep, ErrorCode::OpOutOfBounds),
        (&just_too_deep, ErrorCode::OpOutOfBounds),
        (&long_entity, ErrorCode::OpOutOfBounds),
        (&odd_entity, ErrorCode::OpOutOfBounds),
        (&long_string, ErrorCode::OpOutOfBounds),
        (&huge, ErrorCode::OpTooLarge),
        (&big, ErrorCode::OpTooLarge),
        (&unknown_body, ErrorCode::OpOutOfBounds),
    ] {
        let answer = server.push(&a, std::slice::from_ref(probe)).await;
        assert_eq!(refused(&answer, probe), code, "{}", probe.entity.as_str().len());
    }
    assert_eq!(server.op_count(), 0);
    // Within the bounds: stored.
    let fine = patch_op(&a, EntityKind::TITLE, Uuid::now_v7(), 1000, "subjects", nested(MAX_OP_DEPTH - 4));
    assert_eq!(server.push(&a, &[fine]).await.accepted.len(), 1);
    let refused_ids: Vec<Uuid> = [&deep, &long_entity, &huge].iter().map(|o| o.op_id).collect();
    other_center_still_syncs(&server, &b, &refused_ids).await;
}

async fn an_op_stamped_ahead_of_the_server_clock_is_clock_ahead_and_not_stored(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    let now = chrono::Utc::now().timestamp_millis();
    let ahead = title_op(&a, now + MAX_CLOCK_AHEAD_MS + 60_000, "از آینده");
    let far = title_op(&a, now + 10 * 365 * 24 * 3600 * 1000, "ده سال بعد");
    for probe in [&ahead, &far] {
        assert_eq!(refused(&server.push(&a, std::slice::from_ref(probe)).await, probe), ErrorCode::ClockAhead);
    }
    assert_eq!(server.op_count(), 0);
    // A minute ahead is a clock that drifts: stored.
    let drift = title_op(&a, now + 60_000, "کمی جلو");
    assert_eq!(server.push(&a, &[drift]).await.accepted.len(), 1);
    other_center_still_syncs(&server, &b, &[ahead.op_id, far.op_id]).await;
}

async fn a_push_too_deep_for_any_parser_is_400_and_nothing_is_stored(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    let mut text =
        serde_json::to_string(&op(&a, EntityKind::TITLE, Uuid::now_v7(), 1000, OpBody::Unknown(json!({"type": "x"}))))
            .unwrap();
    text = text.replace(r#"{"type":"x"}"#, &format!(r#"{{"type":"x","d":{}1{}}}"#, "[".repeat(200), "]".repeat(200)));
    let response = server.push_raw(Some(&a.token), format!(r#"{{"ops":[{text}]}}"#)).await;
    crate::support::assert_error(response, 400, ErrorCode::BadRequest).await;
    assert_eq!(server.op_count(), 0);
    other_center_still_syncs(&server, &b, &[]).await;
}

/// An event op of `entity` (a new event id) of kind `kind` with `data`.
fn event_op(desk: &Desk, entity: &str, wall_ms: i64, kind: &str, data: serde_json::Value) -> Op {
    op(desk, entity, Uuid::now_v7(), wall_ms, OpBody::Event { kind: kind.into(), data })
}

/// What center A's desk writes in its own services: a session of its
/// program and an attendance at it, a workshop and an enrolment in it, a
/// payment in its cash book.
struct OwnRecords {
    session: Op,
    attended: Op,
    workshop: Op,
    enrolment: Op,
    payment: Op,
}

impl OwnRecords {
    fn write(desk: &Desk, wall_ms: i64) -> OwnRecords {
        let session = patch_op(desk, EntityKind::ACTIVITY_SESSION, Uuid::now_v7(), wall_ms, "title", json!("قصه‌گویی"));
        let attended = event_op(
            desk,
            EntityKind::ATTENDANCE,
            wall_ms + 1,
            "attended",
            json!({"session_id": session.entity_id, "card": "123401000017", "member_id": Uuid::now_v7()}),
        );
        let workshop = patch_op(desk, EntityKind::WORKSHOP, Uuid::now_v7(), wall_ms + 2, "title", json!("نقاشی"));
        let enrolment = event_op(
            desk,
            EntityKind::ENROLMENT,
            wall_ms + 3,
            "join",
            json!({"workshop_id": workshop.entity_id, "participant": Uuid::now_v7(), "standing": "enrolled"}),
        );
        let payment = event_op(
            desk,
            EntityKind::CASH,
            wall_ms + 4,
            "payment",
            json!({"amount": 500_000, "receipt": "1-0001", "workshop_id": workshop.entity_id}),
        );
        OwnRecords { session, attended, workshop, enrolment, payment }
    }

    fn ops(&self) -> Vec<Op> {
        vec![
            self.session.clone(),
            self.attended.clone(),
            self.workshop.clone(),
            self.enrolment.clone(),
            self.payment.clone(),
        ]
    }
}

/// Center A has stored its records (pushed as one batch: each record
/// created, then named, in the same push).
async fn a_center_with_its_records(backend: Backend) -> (TestServer, Desk, Desk, OwnRecords) {
    let (server, a, b) = two_centers(backend).await;
    let own = OwnRecords::write(&a, 1000);
    let answer = server.push(&a, &own.ops()).await;
    assert_eq!(answer.accepted, own.ops().iter().map(|o| o.op_id).collect::<Vec<_>>(), "{answer:?}");
    (server, a, b, own)
}

async fn another_centers_activities_workshops_and_cash_are_not_owner_and_never_reach_it(backend: Backend) {
    let (server, a, b, own) = a_center_with_its_records(backend).await;
    let stored = server.op_count();
    // B's enrolled desk, with a valid token, writes into A's services.
    let hostile = [
        patch_op(&b, EntityKind::ACTIVITY_SESSION, own.session.entity_id, 2000, "title", json!("ربوده")),
        event_op(
            &b,
            EntityKind::ATTENDANCE,
            2001,
            "attended",
            json!({"session_id": own.session.entity_id, "card": "567801000013"}),
        ),
        event_op(&b, EntityKind::ATTENDANCE, 2002, "void", json!({"target": own.attended.entity_id})),
        event_op(
            &b,
            EntityKind::ENROLMENT,
            2003,
            "join",
            json!({"workshop_id": own.workshop.entity_id, "participant": Uuid::now_v7(), "standing": "enrolled"}),
        ),
        event_op(&b, EntityKind::CASH, 2004, "refund", json!({"refund_of": own.payment.entity_id, "amount": 500_000})),
    ];
    // And into its own, in the same batch: a session, then an attendance naming it.
    let session = patch_op(&b, EntityKind::ACTIVITY_SESSION, Uuid::now_v7(), 2005, "title", json!("کتاب‌خوانی"));
    let attended =
        event_op(&b, EntityKind::ATTENDANCE, 2006, "attended", json!({"session_id": session.entity_id, "card": "5"}));
    let mut batch = hostile.to_vec();
    batch.insert(2, session.clone());
    batch.push(attended.clone());
    let answer = server.push(&b, &batch).await;
    assert_eq!(answer.accepted, vec![session.op_id, attended.op_id], "{answer:?}");
    assert!(answer.duplicates.is_empty(), "{answer:?}");
    let refused: Vec<(Uuid, Option<ErrorCode>)> = answer.rejected.iter().map(|r| (r.op_id, r.code)).collect();
    let expected: Vec<(Uuid, Option<ErrorCode>)> =
        hostile.iter().map(|o| (o.op_id, Some(ErrorCode::NotOwner))).collect();
    assert_eq!(refused, expected, "{answer:?}");
    // Said in English, naming the record and its center.
    assert!(answer.rejected.iter().all(|r| r.reason.contains(&a.center_id.to_string())), "{answer:?}");
    assert_eq!(server.op_count(), stored + 2);

    // A pulls and bootstraps what it wrote and nothing of B's.
    let b_ops: Vec<Uuid> = batch.iter().map(|o| o.op_id).collect();
    let page = server.pull(&a, "").await;
    let pulled: Vec<Uuid> = page.ops.iter().map(|o| o.op_id).collect();
    assert!(own.ops().iter().all(|o| pulled.contains(&o.op_id)), "{pulled:?}");
    assert!(pulled.iter().all(|id| !b_ops.contains(id)), "an op of B reached A's pull");
    let snapshot = server.call(move |s| s.snapshot(a.center_id)).unwrap();
    assert!(b_ops.iter().all(|id| snapshot.ops.iter().all(|json| !json.contains(&id.to_string()))));
    // B pulls its own two, and A's records stay A's for its next ops.
    let page = server.pull(&b, "").await;
    assert!(page.ops.iter().any(|o| o.op_id == attended.op_id));
    let follow_up = patch_op(&a, EntityKind::ACTIVITY_SESSION, own.session.entity_id, 3000, "title", json!("قصه"));
    assert_eq!(server.push(&a, std::slice::from_ref(&follow_up)).await.accepted, vec![follow_up.op_id]);
    let refused_ids: Vec<Uuid> = hostile.iter().map(|o| o.op_id).collect();
    other_center_still_syncs(&server, &a, &refused_ids).await;
}

async fn a_center_writes_and_names_its_own_activities_workshops_and_cash(backend: Backend) {
    let (server, a, b, own) = a_center_with_its_records(backend).await;
    // Later pushes of A on the ids it stored: edits, a second attendance,
    // a void, an offer, a refund.
    let later = [
        patch_op(&a, EntityKind::ACTIVITY_SESSION, own.session.entity_id, 2000, "room", json!("سالن ۲")),
        event_op(
            &a,
            EntityKind::ATTENDANCE,
            2001,
            "attended",
            json!({"session_id": own.session.entity_id, "card": "123401000025"}),
        ),
        event_op(&a, EntityKind::ATTENDANCE, 2002, "void", json!({"target": own.attended.entity_id})),
        patch_op(&a, EntityKind::WORKSHOP, own.workshop.entity_id, 2003, "capacity", json!(12)),
        event_op(
            &a,
            EntityKind::ENROLMENT,
            2004,
            "offer",
            json!({"workshop_id": own.workshop.entity_id, "participant": Uuid::now_v7()}),
        ),
        event_op(&a, EntityKind::CASH, 2005, "refund", json!({"refund_of": own.payment.entity_id, "amount": 100_000})),
        event_op(&a, EntityKind::ENROLMENT, 2006, "void", json!({"target": own.enrolment.entity_id})),
    ];
    let answer = server.push(&a, &later).await;
    assert_eq!(answer.accepted, later.iter().map(|o| o.op_id).collect::<Vec<_>>(), "{answer:?}");
    assert!(answer.rejected.is_empty(), "{answer:?}");
    // Pushed again (a retry): duplicates, not refusals.
    let again = server.push(&a, &later).await;
    assert_eq!(again.duplicates.len(), later.len(), "{again:?}");
    assert!(again.rejected.is_empty(), "{again:?}");
    let page = server.pull(&a, "").await;
    assert!(later.iter().all(|o| page.ops.iter().any(|p| p.op_id == o.op_id)));
    // A patch of B's session id that nobody stored yet is B's creation.
    let fresh = patch_op(&b, EntityKind::ACTIVITY_SESSION, Uuid::now_v7(), 2100, "title", json!("تازه"));
    assert_eq!(server.push(&b, std::slice::from_ref(&fresh)).await.accepted, vec![fresh.op_id]);
    other_center_still_syncs(&server, &b, &[]).await;
}

/// A's villages, the van's visits, the post's parcels and wishes are A's: B's
/// desk can neither edit them nor name them; what B writes of its own
/// (a village, a visit to it) is accepted in the same batch.
async fn another_centers_villages_visits_and_parcels_are_not_owner(backend: Backend) {
    let (server, a, b) = two_centers(backend).await;
    let village = patch_op(&a, EntityKind::VILLAGE, Uuid::now_v7(), 1000, "name", json!("ورچه"));
    let visit = event_op(
        &a,
        EntityKind::VAN_VISIT,
        1001,
        "opened",
        json!({"village_id": village.entity_id, "day": "2025-04-05"}),
    );
    let parcel = event_op(
        &a,
        EntityKind::PARCEL,
        1002,
        "sent",
        json!({"member_id": Uuid::now_v7(), "books": [], "dispatched_on": "2025-04-05",
               "expected_on": "2025-05-20", "postage_rials": 0}),
    );
    let wish = patch_op(&a, EntityKind::WISH, Uuid::now_v7(), 1003, "withdrawn", json!(false));
    let own = [village.clone(), visit.clone(), parcel.clone(), wish.clone()];
    let answer = server.push(&a, &own).await;
    assert_eq!(answer.accepted, own.iter().map(|o| o.op_id).collect::<Vec<_>>(), "{answer:?}");
    let hostile = [
        patch_op(&b, EntityKind::VILLAGE, village.entity_id, 2000, "slot", json!(null)),
        event_op(
            &b,
            EntityKind::VAN_VISIT,
            2001,
            "changed",
            json!({"village_id": village.entity_id, "on": "2025-04-19", "new_due": "2026-04-19", "reason": "x"}),
        ),
        event_op(&b, EntityKind::VAN_VISIT, 2002, "closed", json!({"visit_id": visit.entity_id, "report": {}})),
        event_op(
            &b,
            EntityKind::PARCEL,
            2003,
            "lost",
            json!({"parcel_id": parcel.entity_id, "copy_id": Uuid::now_v7(), "on": "2025-04-06"}),
        ),
        patch_op(&b, EntityKind::WISH, wish.entity_id, 2006, "withdrawn", json!(true)),
    ];
    let mine = patch_op(&b, EntityKind::VILLAGE, Uuid::now_v7(), 2004, "name", json!("خنداب"));
    let my_visit =
        event_op(&b, EntityKind::VAN_VISIT, 2005, "opened", json!({"village_id": mine.entity_id, "day": "2025-04-05"}));
    let mut batch = hostile.to_vec();
    batch.push(mine.clone());
    batch.push(my_visit.clone());
    let answer = server.push(&b, &batch).await;
    assert_eq!(answer.accepted, vec![mine.op_id, my_visit.op_id], "{answer:?}");
    let refused: Vec<(Uuid, Option<ErrorCode>)> = answer.rejected.iter().map(|r| (r.op_id, r.code)).collect();
    let expected: Vec<(Uuid, Option<ErrorCode>)> =
        hostile.iter().map(|o| (o.op_id, Some(ErrorCode::NotOwner))).collect();
    assert_eq!(refused, expected, "{answer:?}");
    let page = server.pull(&a, "").await;
    assert!(page.ops.iter().all(|o| batch.iter().all(|h| h.op_id != o.op_id)), "an op of B reached A's pull");
    let refused_ids: Vec<Uuid> = hostile.iter().map(|o| o.op_id).collect();
    other_center_still_syncs(&server, &a, &refused_ids).await;
}

backend_tests!(
    another_centers_villages_visits_and_parcels_are_not_owner,
    a_center_patch_of_another_center_is_not_owner_and_not_stored,
    a_title_of_another_center_is_edited_or_merged_only_by_it,
    an_op_of_an_unknown_entity_stays_in_the_pushing_center,
    ops_out_of_bounds_are_refused_each_and_not_stored,
    an_op_stamped_ahead_of_the_server_clock_is_clock_ahead_and_not_stored,
    a_push_too_deep_for_any_parser_is_400_and_nothing_is_stored,
    another_centers_activities_workshops_and_cash_are_not_owner_and_never_reach_it,
    a_center_writes_and_names_its_own_activities_workshops_and_cash,
);
