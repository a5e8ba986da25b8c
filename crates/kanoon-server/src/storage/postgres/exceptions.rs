//! The ops the admin's exception report folds, on PostgreSQL (the fold
//! itself is `crate::exceptions`, the same for both backends).

use uuid::Uuid;

use super::PostgresStorage;
use crate::error::AppError;
use crate::storage::CenterOp;

pub(super) fn center_ops(
    storage: &PostgresStorage,
    center: Option<Uuid>,
    entities: &[&str],
) -> Result<Vec<CenterOp>, AppError> {
    let mut client = storage.client()?;
    let rows = client.query(
        "SELECT c.code, o.entity, o.op FROM ops o JOIN centers c ON c.id = o.center_id
         WHERE o.entity = ANY($1) AND ($2::uuid IS NULL OR o.center_id = $2)
         ORDER BY o.seq",
        &[&entities, &center],
    )?;
    rows.iter()
        .map(|r| Ok(CenterOp { center_code: r.try_get(0)?, entity: r.try_get(1)?, json: r.try_get(2)? }))
        .collect()
}
