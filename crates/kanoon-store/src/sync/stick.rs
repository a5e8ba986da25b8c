//! Ops on a USB stick (`kanoon_protocol::stick`): a desk with no network
//! writes its unpushed ops to a file and another desk of its center reads
//! it, through the same apply as a pulled page (so a stick carried twice,
//! or ops that later come from the server too, change nothing). The desk's
//! own outbox is untouched: the ops still go to the server with its next
//! push.

use kanoon_domain::entities::Permission;
use kanoon_protocol::Op;
use kanoon_protocol::stick::{self, StickError};
use serde::{Deserialize, Serialize};

use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::sync::apply::is_transfer;

/// Ops one file may carry; a desk with more writes them in several.
pub const STICK_OPS: usize = stick::MAX_OPS;

/// What reading a stick did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StickImport {
    /// Ops in the file.
    pub ops: usize,
    pub applied: usize,
    /// Already here (the stick read before, or the server sent them).
    pub duplicates: usize,
    /// Set aside until what they need arrives.
    pub kept: usize,
    /// Copy transfers, left for the server's order (the next sync).
    pub later: usize,
}

impl Desk {
    /// The desk's ops not yet pushed, as an ops file signed with its sync
    /// credential (unsigned when it is not enrolled), and how many it holds.
    pub fn export_ops(&self) -> Result<(Vec<u8>, usize)> {
        self.require(Permission::LoanDesk)?;
        let id = self.id()?;
        let ops = self.ops_to_push(STICK_OPS)?;
        let key = self.sync_settings()?.map(|s| stick::device_key(&s.token));
        let written_at = crate::sql::timestamp(self.now());
        Ok((stick::write(id.center.id, id.device_id, key.as_deref(), &written_at, &ops), ops.len()))
    }

    /// Reads another desk's ops file, or the server's written for this
    /// desk (`kanoon-server export-ops`): only ops of this desk's center,
    /// each applied as if pulled (the sync cursor does not move).
    pub fn import_ops(&mut self, bytes: &[u8]) -> Result<StickImport> {
        self.require(Permission::LoanDesk)?;
        let file = stick::read(bytes).map_err(|e| StoreError::InvalidInput(refusal(&e)))?;
        let (center, device) = (self.id()?.center.id, self.id()?.device_id);
        if file.header.center_id != center {
            return Err(StoreError::InvalidInput(
                "این فایل از مرکز دیگری است؛ فقط فایل میزهای همین مرکز خوانده می‌شود.".into(),
            ));
        }
        // A file in this desk's name (the server's export for it, or its
        // own) must carry this desk's signature; another desk's signature
        // only the server can check.
        if file.header.device_id == device
            && let Some(settings) = self.sync_settings()?
            && !file.verify(&stick::device_key(&settings.token))
        {
            return Err(StoreError::InvalidInput(
                "امضای این فایل با اعتبار این میز نمی‌خواند (فایل پس از نوشتن تغییر کرده یا برای میز دیگری است)؛ \
                 هیچ چیز از آن ثبت نشد. فایل را دوباره از سرور بگیرید."
                    .into(),
            ));
        }
        // Another desk's file holds only that desk's own ops (what it had
        // not pushed); ops of other devices come only in a file the server
        // signed for this desk.
        if file.header.device_id != device && file.ops.iter().any(|op| op.device_id != file.header.device_id) {
            return Err(StoreError::InvalidInput(
                "این فایل کارهای میزی جز میز نویسندهٔ آن را هم دارد؛ هیچ چیز از آن ثبت نشد. فایل را دوباره از میز فرستنده بگیرید."
                    .into(),
            ));
        }
        // A copy's transfers are judged in the order the server gives them
        // (which center held the copy when): one read ahead of that order
        // could make this desk refuse another center's later op on the copy
        // for good. They come with the next sync; what needs them waits.
        let (now, later): (Vec<Op>, Vec<Op>) = file.ops.iter().cloned().partition(|op| !is_transfer(op));
        let cursor = self.sync_cursor()?.unwrap_or_default();
        let report = self.apply_pulled(&now, cursor)?;
        Ok(StickImport {
            ops: file.ops.len(),
            applied: report.applied,
            duplicates: report.duplicates,
            kept: report.kept,
            later: later.len(),
        })
    }
}

/// Why a file was refused, in Persian, with what to do.
fn refusal(e: &StickError) -> String {
    let what = match e {
        StickError::TooLarge(_) => "فایل بیش از اندازه بزرگ است",
        StickError::NotOpsFile(_) => "این فایل، فایل انتقال کانون نیست",
        StickError::Version(_) => "این فایل با نسخهٔ دیگری از برنامه نوشته شده است",
        StickError::Count { .. } => "فایل ناقص است (شاید نیمه‌کاره روی فلش نوشته شده)",
        StickError::BadOp { .. } | StickError::OutOfBounds { .. } => "بخشی از فایل خراب است",
        StickError::OtherCenter { .. } => "فایل کارهای مرکز دیگری را دارد",
    };
    format!("{what}؛ هیچ چیز از آن ثبت نشد. فایل را دوباره از میز فرستنده بگیرید. ({e})")
}
