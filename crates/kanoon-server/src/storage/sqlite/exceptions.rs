//! The ops the admin's exception report folds, on SQLite (the fold itself
//! is `crate::exceptions`, the same for both backends).

use rusqlite::params;
use uuid::Uuid;

use super::SqliteStorage;
use crate::error::AppError;
use crate::storage::CenterOp;

pub(super) fn center_ops(
    storage: &SqliteStorage,
    center: Option<Uuid>,
    entities: &[&str],
) -> Result<Vec<CenterOp>, AppError> {
    let conn = storage.conn();
    let entities = serde_json::to_string(entities).map_err(|e| AppError::internal(e.to_string()))?;
    let mut stmt = conn.prepare(
        "SELECT c.code, o.entity, o.op FROM ops o JOIN centers c ON c.id = o.center_id
         WHERE o.entity IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR o.center_id = ?2)
         ORDER BY o.seq",
    )?;
    let rows = stmt.query_map(params![entities, center.map(|c| c.to_string())], |r| {
        Ok(CenterOp { center_code: r.get(0)?, entity: r.get(1)?, json: r.get(2)? })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
