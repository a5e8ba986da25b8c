//! A storage that is slow or failing: timeouts and internal errors reach
//! the client as JSON errors, internal details stay in the log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kanoon_domain::entities::CenterKind;
use kanoon_protocol::Op;
use kanoon_protocol::photos::{PhotoBody, PhotoOutcome, PhotoPage};
use kanoon_protocol::wire::{Cursor, EnrolRequest, EnrolResponse, PullResponse, PushResponse};
use kanoon_server::{
    AppError, CenterInfo, CenterOp, DeviceAuth, DeviceInfo, DeviceKey, ErrorCode, IncomingOp, Limits, SnapshotSink,
    Storage,
};
use uuid::Uuid;

use crate::support::assert_error;

const SECRET: &str = "disk on fire at /var/secret/path";

/// Health is slow; every other call fails with an internal error.
struct Faulty;

impl Storage for Faulty {
    fn add_center(&self, _: &str, _: &str, _: CenterKind) -> Result<CenterInfo, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn create_enrol_code(&self, _: &str) -> Result<String, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn create_reenrol_code(&self, _: &str, _: Uuid) -> Result<String, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn revoke_device(&self, _: Uuid) -> Result<bool, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn enrol(&self, _: &EnrolRequest) -> Result<EnrolResponse, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn device_for_token(&self, _: &str) -> Result<Option<DeviceAuth>, AppError> {
        Ok(Some(DeviceAuth { device_id: Uuid::nil(), center_id: Uuid::nil() }))
    }
    fn device_key(&self, _: Uuid) -> Result<Option<DeviceKey>, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn push_at(&self, _: Uuid, _: Uuid, _: &[IncomingOp], _: i64) -> Result<PushResponse, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn pull(&self, _: Uuid, _: Cursor, _: usize) -> Result<PullResponse, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn snapshot_into(&self, _: Uuid, _: &mut dyn SnapshotSink) -> Result<(), AppError> {
        Err(AppError::internal(SECRET))
    }
    fn devices(&self) -> Result<Vec<DeviceInfo>, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn epoch(&self) -> u64 {
        1
    }
    fn health(&self) -> Result<(), AppError> {
        std::thread::sleep(Duration::from_millis(800));
        Ok(())
    }
    fn log_length(&self) -> Result<u64, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn put_photo(&self, _: Uuid, _: Uuid, _: &PhotoBody) -> Result<PhotoOutcome, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn photos_after(&self, _: Uuid, _: u64, _: usize) -> Result<PhotoPage, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn center_ops(&self, _: Option<Uuid>, _: &[&str]) -> Result<Vec<CenterOp>, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn province_settings(&self) -> Result<kanoon_server::ProvinceSettings, AppError> {
        Err(AppError::internal(SECRET))
    }
    fn put_province_setting_at(&self, _: &str, _: serde_json::Value, _: bool, _: i64) -> Result<Op, AppError> {
        Err(AppError::internal(SECRET))
    }
}

async fn start_faulty() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let limits = Limits { request_timeout: Duration::from_millis(100), ..Limits::default() };
    let app = kanoon_server::router_with_limits(Arc::new(Faulty), limits).unwrap();
    tokio::spawn(async move { axum_serve(listener, app).await });
    base
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) {
    let _ = axum::serve(listener, app).await;
}

#[tokio::test]
async fn a_request_past_the_time_limit_is_a_json_503() {
    let base = start_faulty().await;
    let started = Instant::now();
    let response = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_error(response, 503, ErrorCode::Timeout).await;
    assert!(started.elapsed() < Duration::from_millis(600), "{:?}", started.elapsed());
}

#[tokio::test]
async fn an_internal_error_is_a_generic_500() {
    let base = start_faulty().await;
    let response = reqwest::Client::new()
        .get(format!("{base}{}/pull", kanoon_protocol::wire::API_PREFIX))
        .bearer_auth("any")
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 500, ErrorCode::Internal).await;
    assert!(!body.message.contains("fire"), "{}", body.message);
}
