//! Real desks against the real server when one desk misbehaves: an edit of
//! another center's title is refused and set aside on the desk that made
//! it; an op stamped ahead of the server's clock waits in the outbox and
//! goes once the server's time has passed it; an op the desk cannot parse
//! is set aside and the page applies.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use kanoon_domain::entities::CenterKind;
use kanoon_server::Storage;
use kanoon_store::catalog::TitleInput;
use kanoon_store::{Desk, SetupRequest};
use kanoon_sync::{enrol, sync_once};

use crate::over_http::{TwoDesks, add_copies, admin, register, two_enrolled_desks};

/// A desk of center 5678 (registered on the server), enrolled.
async fn desk_of_other_center(storage: &Arc<dyn Storage>, t: &TwoDesks) -> Arc<Mutex<Desk>> {
    admin(storage, |s| s.add_center("5678", "مرکز سیار", CenterKind::Mobile).unwrap());
    let code = admin(storage, |s| s.create_enrol_code("5678").unwrap());
    let mut desk = Desk::open_in_memory().unwrap().with_clock(Arc::new(t.clock.clone()));
    desk.setup(
        SetupRequest {
            center_code: "5678".into(),
            center_name: "مرکز سیار".into(),
            center_kind: CenterKind::Mobile,
            desk_number: 1,
            manager_username: "manager".into(),
            manager_full_name: "مدیر".into(),
        },
        "kanoon1404",
    )
    .unwrap();
    let desk = Arc::new(Mutex::new(desk));
    enrol(&desk, &t.client, &t.url, &code, "میز سیار").await.unwrap();
    desk
}

fn codes(desk: &Mutex<Desk>, code: &str) -> usize {
    desk.lock().unwrap().sync_exceptions().unwrap().iter().filter(|e| e.code == code).count()
}

on_both_backends!(
    sqlite_an_edit_of_another_centers_title_is_refused_and_set_aside_on_its_desk,
    postgres_an_edit_of_another_centers_title_is_refused_and_set_aside_on_its_desk,
    an_edit_of_another_centers_title_is_refused_and_set_aside_on_its_desk
);

async fn an_edit_of_another_centers_title_is_refused_and_set_aside_on_its_desk(storage: Arc<dyn Storage>) {
    let t = two_enrolled_desks(&storage).await;
    let c = desk_of_other_center(&storage, &t).await;
    add_copies(&t.a, &["1"]);
    sync_once(&t.a, &t.client).await.unwrap();
    sync_once(&c, &t.client).await.unwrap();
    let title = c.lock().unwrap().list_titles(0, 10).unwrap().into_iter().find(|h| h.title == "قصه‌های مجید");
    let title = title.expect("the province's titles reach every center").id;
    let input = TitleInput { title: "عنوان دیگر".into(), ..c.lock().unwrap().title(title).unwrap().details };
    c.lock().unwrap().edit_title(title, input).unwrap();
    let round = sync_once(&c, &t.client).await.unwrap();
    assert_eq!((round.rejected, round.held), (1, 0), "{round:?}");
    assert_eq!(c.lock().unwrap().outbox_len().unwrap(), 0, "set aside, not pushed again");
    assert_eq!(codes(&c, "op_rejected"), 1);
    // The creating center's desks never see it, and keep syncing.
    let m = register(&t.a, "سارا", 71);
    sync_once(&t.a, &t.client).await.unwrap();
    sync_once(&t.b, &t.client).await.unwrap();
    assert_eq!(t.b.lock().unwrap().title(title).unwrap().details.title, "قصه‌های مجید");
    assert_eq!(t.b.lock().unwrap().member(m.id).unwrap().id, m.id);
}

on_both_backends!(
    sqlite_an_op_ahead_of_the_servers_clock_waits_in_the_outbox_and_goes_later,
    postgres_an_op_ahead_of_the_servers_clock_waits_in_the_outbox_and_goes_later,
    an_op_ahead_of_the_servers_clock_waits_in_the_outbox_and_goes_later
);

/// The server's clock is moved for the whole process: one such test at a time.
pub(crate) static SERVER_CLOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn an_op_ahead_of_the_servers_clock_waits_in_the_outbox_and_goes_later(storage: Arc<dyn Storage>) {
    let _alone = SERVER_CLOCK.lock().await;
    let t = two_enrolled_desks(&storage).await;
    sync_once(&t.a, &t.client).await.unwrap();
    // Both desks' clock an hour ahead of the server's.
    let server_now = chrono::DateTime::from_timestamp_millis(kanoon_server::clock::now_ms()).unwrap();
    t.clock.set(server_now + chrono::Duration::hours(1));
    let m = register(&t.a, "سارا", 72);
    let waiting = t.a.lock().unwrap().outbox_len().unwrap();
    assert!(waiting > 0);
    for _ in 0..2 {
        let round = sync_once(&t.a, &t.client).await.unwrap();
        assert_eq!((round.pushed, round.rejected, round.held as i64), (0, 0, waiting), "{round:?}");
        assert_eq!(t.a.lock().unwrap().outbox_len().unwrap(), waiting, "kept, never set aside");
    }
    assert!(t.a.lock().unwrap().sync_exceptions().unwrap().is_empty());
    // The server's time passes the ops': they go, and reach the other desk.
    kanoon_server::clock::advance(2 * 3600 * 1000);
    let round = sync_once(&t.a, &t.client).await.unwrap();
    assert_eq!((round.pushed as i64, round.held), (waiting, 0), "{round:?}");
    assert_eq!(t.a.lock().unwrap().outbox_len().unwrap(), 0);
    sync_once(&t.b, &t.client).await.unwrap();
    assert_eq!(t.b.lock().unwrap().member(m.id).unwrap().id, m.id);
}

/// An older server that serves, in its snapshot and in its pull page, an
/// op too deep for any parser next to a good one (what one hostile push
/// did before pushes were bounded), answers every push with nothing
/// stored and knows no photos: a raw HTTP/1.1 responder on loopback.
async fn older_server(snapshot: String, page: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (snapshot, page) = (snapshot.clone(), page.clone());
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_owned();
                let (status, body) = if line.contains("/push") {
                    ("200 OK", r#"{"accepted":[],"duplicates":[],"rejected":[]}"#.to_owned())
                } else if line.contains("/snapshot") {
                    ("200 OK", snapshot)
                } else if line.contains("/pull") {
                    ("200 OK", page)
                } else {
                    ("404 Not Found", r#"{"code":"not_found","message":"m"}"#.to_owned())
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

/// The op of a new title named `name`, as another desk of the center wrote it.
fn title_json(clock: &kanoon_store::ManualClock, name: &str) -> String {
    let writer = crate::over_http::new_desk(clock, 9);
    writer.lock().unwrap().add_title(TitleInput { title: name.into(), ..TitleInput::default() }).unwrap();
    let ops = writer.lock().unwrap().ops_to_push(1000).unwrap();
    serde_json::to_string(ops.iter().rev().find(|o| o.entity.as_str() == "title").unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_no_desk_can_parse_is_set_aside_and_the_snapshot_and_page_apply() {
    let clock = kanoon_store::ManualClock::new(chrono::TimeZone::with_ymd_and_hms(&Utc, 2025, 4, 5, 6, 30, 0).unwrap());
    let desk = crate::over_http::new_desk(&clock, 1);
    let good = title_json(&clock, "از تصویر");
    let deep = good.replace(r#""از تصویر""#, &format!("{}1{}", "[".repeat(200), "]".repeat(200)));
    assert_ne!(deep, good);
    let snapshot = format!(r#"{{"cursor":"7:1","ops":[{deep},{good}]}}"#);
    let page =
        format!(r#"{{"ops":[{deep},{},{{"op_id":42}}],"cursor":"7:3","more":false}}"#, title_json(&clock, "از صفحه"));
    let url = older_server(snapshot, page).await;
    let client = kanoon_sync::Client::new(&url, None).unwrap();
    let settings = kanoon_store::sync::SyncSettings { server: url.clone(), token: "t".into() };
    desk.lock().unwrap().set_sync_settings(&settings).unwrap();
    for _ in 0..2 {
        sync_once(&desk, &client).await.unwrap();
        // The deep op once (the same text twice), the malformed one once.
        assert_eq!(codes(&desk, "op_unreadable"), 2);
        let d = desk.lock().unwrap();
        assert_eq!(d.sync_cursor().unwrap(), Some(kanoon_protocol::wire::Cursor { epoch: 7, seq: 3 }));
        let titles: Vec<String> = d.list_titles(0, 10).unwrap().into_iter().map(|t| t.title).collect();
        assert!(titles.contains(&"از تصویر".to_owned()) && titles.contains(&"از صفحه".to_owned()), "{titles:?}");
    }
}

on_both_backends!(
    sqlite_a_revoked_desk_is_told_so_in_persian_and_its_outbox_kept,
    postgres_a_revoked_desk_is_told_so_in_persian_and_its_outbox_kept,
    a_revoked_desk_is_told_so_in_persian_and_its_outbox_kept
);

async fn a_revoked_desk_is_told_so_in_persian_and_its_outbox_kept(storage: Arc<dyn Storage>) {
    let t = two_enrolled_desks(&storage).await;
    sync_once(&t.a, &t.client).await.unwrap();
    let device = t.a.lock().unwrap().identity().unwrap().device_id;
    assert!(admin(&storage, |s| s.revoke_device(device).unwrap()));
    register(&t.a, "سارا", 74);
    let waiting = t.a.lock().unwrap().outbox_len().unwrap();
    let refused = sync_once(&t.a, &t.client).await.unwrap_err();
    assert!(matches!(refused, kanoon_sync::SyncError::Revoked), "{refused:?}");
    assert!(refused.to_string().contains("لغو"), "{refused}");
    assert_eq!(t.a.lock().unwrap().outbox_len().unwrap(), waiting);
    // A spare code does not let it back in; a code made for it does, and the outbox goes.
    let spare = admin(&storage, |s| s.create_enrol_code("1234").unwrap());
    let again = enrol(&t.a, &t.client, &t.url, &spare, "میز ۱").await.unwrap_err();
    assert!(matches!(again, kanoon_sync::SyncError::AlreadyEnrolled), "{again:?}");
    let code = admin(&storage, |s| s.create_reenrol_code("1234", device).unwrap());
    enrol(&t.a, &t.client, &t.url, &code, "میز ۱").await.unwrap();
    sync_once(&t.a, &t.client).await.unwrap();
    assert_eq!(t.a.lock().unwrap().outbox_len().unwrap(), 0);
    sync_once(&t.b, &t.client).await.unwrap();
}
