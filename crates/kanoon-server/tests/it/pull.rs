use kanoon_protocol::wire::Cursor;
use kanoon_server::ErrorCode;

use crate::support::{Backend, TestServer, assert_error, loan_op, title_op};

async fn pages_follow_the_cursor_until_nothing_more(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    let ops: Vec<_> = (0..7).map(|i| loan_op(&desk, 1000 + i)).collect();
    server.push(&desk, &ops).await;
    let epoch = server.storage.epoch();

    let mut cursor = Cursor::default();
    let mut pulled = Vec::new();
    let mut pages = Vec::new();
    loop {
        let page = server.pull(&desk, &format!("?cursor={cursor}&limit=3")).await;
        assert_eq!(page.cursor.epoch, epoch);
        assert!(page.cursor.seq >= cursor.seq);
        pages.push((page.ops.len(), page.more));
        pulled.extend(page.ops.iter().map(|o| o.op_id));
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(pages, vec![(3, true), (3, true), (1, false)]);
    assert_eq!(pulled, ops.iter().map(|o| o.op_id).collect::<Vec<_>>());

    // Nothing new: an empty page that keeps the cursor.
    let page = server.pull(&desk, &format!("?cursor={cursor}")).await;
    assert!(page.ops.is_empty() && !page.more);
    assert_eq!(page.cursor, cursor);

    // Later ops come after the cursor, and only they.
    let later = loan_op(&desk, 2000);
    server.push(&desk, std::slice::from_ref(&later)).await;
    let page = server.pull(&desk, &format!("?cursor={cursor}")).await;
    assert_eq!(page.ops, vec![later]);
    assert_eq!(page.cursor.seq, cursor.seq + 1);

    // No cursor = from the start; limits are clamped.
    assert_eq!(server.pull(&desk, "").await.ops.len(), 8);
    assert_eq!(server.pull(&desk, "?limit=0").await.ops.len(), 1);
    assert_eq!(server.pull(&desk, "?limit=100000").await.ops.len(), 8);
}

async fn a_desk_pulls_its_center_and_the_province_wide_titles_only(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1111");
    server.add_center("2222");
    let a = server.enrol("1111", 1).await;
    let a2 = server.enrol("1111", 2).await;
    let b = server.enrol("2222", 1).await;
    let a_loan = loan_op(&a, 1000);
    let a_title = title_op(&a, 1001, "کلیدر");
    let b_loan = loan_op(&b, 1002);
    server.push(&a, &[a_loan.clone(), a_title.clone()]).await;
    server.push(&b, std::slice::from_ref(&b_loan)).await;

    let ids = |ops: Vec<kanoon_protocol::Op>| ops.into_iter().map(|o| o.op_id).collect::<Vec<_>>();
    assert_eq!(ids(server.pull(&b, "").await.ops), vec![a_title.op_id, b_loan.op_id]);
    assert_eq!(ids(server.pull(&a2, "").await.ops), vec![a_loan.op_id, a_title.op_id]);
    assert_eq!(ids(server.pull(&a, "").await.ops), vec![a_loan.op_id, a_title.op_id]);

    // Paging skips the other center's ops without ending early.
    let first = server.pull(&b, "?limit=1").await;
    assert_eq!((ids(first.ops), first.more), (vec![a_title.op_id], true));
    let second = server.pull(&b, &format!("?cursor={}&limit=1", first.cursor)).await;
    assert_eq!((ids(second.ops), second.more), (vec![b_loan.op_id], false));
}

async fn a_cursor_of_another_epoch_is_409_and_a_bad_cursor_400(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.add_center("1234");
    let desk = server.enrol("1234", 1).await;
    server.push(&desk, &[loan_op(&desk, 1000)]).await;
    let epoch = server.storage.epoch();

    let body = assert_error(
        server.try_pull(Some(&desk.token), &format!("?cursor={}:0", epoch + 1)).await,
        409,
        ErrorCode::StaleCursor,
    )
    .await;
    assert!(body.message.contains("epoch changed: bootstrap again"), "{}", body.message);
    // Epoch 0 is "no cursor yet".
    let page = server.pull(&desk, "?cursor=0:0").await;
    assert_eq!((page.ops.len(), page.cursor.epoch), (1, epoch));

    for bad in ["?cursor=12", "?cursor=a:b", "?cursor=-1:0", "?limit=many"] {
        assert_error(server.try_pull(Some(&desk.token), bad).await, 400, ErrorCode::BadRequest).await;
    }
    // A cursor past the end of the log: the server lost ops (restored from
    // an older backup), so the desk must bootstrap again.
    let body = assert_error(
        server.try_pull(Some(&desk.token), &format!("?cursor={epoch}:99")).await,
        409,
        ErrorCode::StaleCursor,
    )
    .await;
    assert!(body.message.contains("past the end of the log"), "{}", body.message);
}

backend_tests!(
    pages_follow_the_cursor_until_nothing_more,
    a_desk_pulls_its_center_and_the_province_wide_titles_only,
    a_cursor_of_another_epoch_is_409_and_a_bad_cursor_400,
);
