use kanoon_server::ErrorCode;
use serde_json::json;

use crate::support::{Backend, TestServer, assert_error, loan_op, title_op};

async fn a_batch_is_accepted_once_and_a_replay_is_all_duplicates(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let ops = vec![loan_op(&desk, 1000), loan_op(&desk, 1001), title_op(&desk, 1002, "قصه‌های مجید")];
    let ids: Vec<_> = ops.iter().map(|o| o.op_id).collect();

    let first = server.push(&desk, &ops).await;
    assert_eq!(first.accepted, ids);
    assert!(first.duplicates.is_empty() && first.rejected.is_empty());

    let replay = server.push(&desk, &ops).await;
    assert!(replay.accepted.is_empty() && replay.rejected.is_empty());
    assert_eq!(replay.duplicates, ids);
    assert_eq!(server.op_count(), 3);

    // A batch mixing new and known ops, with an op repeated inside it.
    let new = loan_op(&desk, 1003);
    let mixed = server.push(&desk, &[ops[0].clone(), new.clone(), new.clone()]).await;
    assert_eq!(mixed.accepted, vec![new.op_id]);
    assert_eq!(mixed.duplicates, vec![ops[0].op_id, new.op_id]);
    assert_eq!(server.op_count(), 4);

    // An empty batch is fine: it tells the server's time (a desk whose
    // clock was ahead learns it is fixed).
    let empty = server.push(&desk, &[]).await;
    assert!(empty.accepted.is_empty() && empty.duplicates.is_empty() && empty.rejected.is_empty());
    assert!(empty.server_time_ms.is_some_and(|t| (t - kanoon_server::clock::now_ms()).abs() < 60_000));
}

async fn an_op_id_reused_with_other_content_is_rejected_and_the_stored_op_kept(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let original = loan_op(&desk, 1000);
    server.push(&desk, std::slice::from_ref(&original)).await;
    let stored = server.stored_op_json(original.op_id);

    let mut forged = original.clone();
    forged.body = kanoon_protocol::OpBody::Event { kind: "return".into(), data: json!({}) };
    let other = loan_op(&desk, 1001);
    let response = server.push(&desk, &[forged.clone(), other.clone()]).await;
    assert_eq!(response.rejected.len(), 1);
    assert_eq!(response.rejected[0].op_id, original.op_id);
    assert!(!response.rejected[0].reason.is_empty());
    // The rest of the batch is unaffected.
    assert_eq!(response.accepted, vec![other.op_id]);
    assert_eq!(server.stored_op_json(original.op_id), stored);
    assert_eq!(server.op_count(), 2);
}

async fn an_op_is_stored_exactly_as_received_with_fields_and_kinds_this_server_does_not_know(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let op_id = uuid::Uuid::now_v7();
    let raw = format!(
        r#"{{"op_id":"{op_id}","schema_version":9,"hlc":{{"wall_ms":5,"counter":1}},"device_id":"{}","center_id":"{}","entity":"future_thing","entity_id":"{}","staff_id":null,"body":{{"type":"event","kind":"teleport","data":{{"new_field":[1,2]}}}},"envelope_field_of_v9":"kept"}}"#,
        desk.device_id,
        desk.center_id,
        uuid::Uuid::now_v7()
    );
    let response = server.push_raw(Some(&desk.token), format!(r#"{{ "ops": [ {raw} ] }}"#)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(server.stored_op_json(op_id), raw);

    // The same op resent with other spacing and key order is a duplicate.
    let reordered: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let pretty = serde_json::to_string_pretty(&json!({ "ops": [reordered] })).unwrap();
    let again: kanoon_protocol::wire::PushResponse =
        server.push_raw(Some(&desk.token), pretty).await.json().await.unwrap();
    assert_eq!(again.duplicates, vec![op_id]);

    let page = server.pull(&desk, "").await;
    assert_eq!(page.ops.len(), 1);
    assert_eq!(page.ops[0].entity.as_str(), "future_thing");
    assert_eq!(page.ops[0].schema_version, 9);
    assert_eq!(
        page.ops[0].body,
        kanoon_protocol::OpBody::Event { kind: "teleport".into(), data: json!({ "new_field": [1, 2] }) }
    );
}

async fn a_batch_with_an_op_of_another_center_is_refused_whole(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    server.add_center("5678");
    let desk = server.enrol("1234", 1).await;
    let other_center = server.enrol("5678", 1).await;
    let mut foreign = loan_op(&desk, 1001);
    foreign.center_id = other_center.center_id;
    let response = server.try_push(&desk, &[loan_op(&desk, 1000), foreign, title_op(&desk, 1002, "t")]).await;
    let body = assert_error(response, 403, ErrorCode::OpOfOtherCenter).await;
    assert!(body.message.contains("nothing"), "{}", body.message);
    assert_eq!(server.op_count(), 0);
}

async fn concurrent_pushes_of_the_same_batch_store_each_op_once(backend: Backend) {
    let server = std::sync::Arc::new(TestServer::start(backend).await);
    server.add_center("1234");
    let desks = [server.enrol("1234", 1).await, server.enrol("1234", 2).await];
    let ops: Vec<_> = (0..50).map(|i| loan_op(&desks[0], 1000 + i)).collect();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (server, desk, ops) = (server.clone(), desks[0].clone(), ops.clone());
        tasks.push(tokio::spawn(async move { server.push(&desk, &ops).await }));
    }
    let (mut accepted, mut duplicates) = (0, 0);
    for task in tasks {
        let response = task.await.unwrap();
        assert!(response.rejected.is_empty());
        accepted += response.accepted.len();
        duplicates += response.duplicates.len();
    }
    assert_eq!((accepted, duplicates), (50, 350));
    assert_eq!(server.op_count(), 50);
    // Another desk of the same center cannot push ops written by this one.
    assert_error(server.try_push(&desks[1], &ops).await, 403, ErrorCode::OpOfOtherDevice).await;
}

async fn an_op_id_repeated_in_a_batch_counts_once_and_the_log_keeps_the_batch_order(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    // Newest id first, so that batch order is not id order.
    let mut ops: Vec<_> = (0..4).map(|i| loan_op(&desk, 1000 + i)).collect();
    ops.reverse();
    let mut forged = ops[1].clone();
    forged.body = kanoon_protocol::OpBody::Event { kind: "return".into(), data: json!({}) };
    let batch = [ops[0].clone(), ops[1].clone(), ops[0].clone(), forged, ops[2].clone(), ops[3].clone()];
    let response = server.push(&desk, &batch).await;
    assert_eq!(response.accepted, ops.iter().map(|o| o.op_id).collect::<Vec<_>>());
    assert_eq!(response.duplicates, vec![ops[0].op_id]);
    assert_eq!(response.rejected.iter().map(|r| r.op_id).collect::<Vec<_>>(), vec![ops[1].op_id]);
    assert_eq!(server.op_count(), 4);
    // Stored once each, as first sent, and pulled in batch order.
    assert_eq!(server.pull(&desk, "").await.ops, ops);
}

backend_tests!(
    a_batch_is_accepted_once_and_a_replay_is_all_duplicates,
    an_op_id_reused_with_other_content_is_rejected_and_the_stored_op_kept,
    an_op_is_stored_exactly_as_received_with_fields_and_kinds_this_server_does_not_know,
    a_batch_with_an_op_of_another_center_is_refused_whole,
    concurrent_pushes_of_the_same_batch_store_each_op_once,
    an_op_id_repeated_in_a_batch_counts_once_and_the_log_keeps_the_batch_order,
);
