//! Records loans and returns in an endless loop, printing each one only
//! after it is committed. The crash test (`tests/it/crash.rs`) kills it with
//! SIGKILL at random moments and checks that every printed loan survived.
//!
//! Usage: `kanoon-loan-loop <db-path>`
//!
//! Output, one line per committed transaction:
//! `LOAN <loan-id>` after a check-out, `RETURN <loan-id>` after a check-in.
//!
//! Every start is idempotent: a kill may land between setup, adding the
//! books and registering the member (each its own transaction), so only
//! what is missing is created.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use kanoon_domain::entities::{CenterKind, Gender};
use kanoon_store::catalog::TitleInput;
use kanoon_store::circulation::{BookStatus, CheckOutRequest};
use kanoon_store::members::{FeeInput, MemberDetails, RegisterMember, RegisterOutcome};
use kanoon_store::{Desk, ErrorCode, SetupRequest};
use uuid::Uuid;

/// The one member's national id (valid check digit).
const NATIONAL_ID: &str = "0012345679";
/// Copies "1" ..= "COPIES" of one title.
const COPIES: u32 = 50;

fn main() -> Result<()> {
    let path: PathBuf = std::env::args_os().nth(1).map(PathBuf::from).context("usage: kanoon-loan-loop <db-path>")?;
    let mut desk = Desk::open(&path).with_context(|| format!("opening {}", path.display()))?;
    if desk.identity().is_none() {
        desk.setup(
            SetupRequest {
                center_code: "1234".into(),
                center_name: "مرکز آزمون".into(),
                center_kind: CenterKind::Fixed,
                desk_number: 1,
                manager_username: "manager".into(),
                manager_full_name: "مدیر آزمون".into(),
            },
            "kanoon1404",
        )
        .context("setup")?;
    } else {
        desk.sign_in("manager", "kanoon1404").context("sign in")?;
    }
    ensure_books(&mut desk)?;
    let member_id = ensure_member(&mut desk)?;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();

    // A kill may have landed between a check-out and its check-in.
    for open in desk.open_loans_of(member_id).context("open loans")? {
        let back = desk.check_in(&open.registration_number).context("returning a loan left open")?;
        writeln!(out, "RETURN {}", back.loan_id)?;
        out.flush()?;
    }

    for number in (1..=COPIES).cycle() {
        let number = number.to_string();
        let lent = desk
            .check_out(CheckOutRequest::new(member_id, [number.clone()]).confirmed())
            .with_context(|| format!("lending copy {number}"))?;
        let Some(book) = lent.books.first() else { bail!("check-out of copy {number} reported no book") };
        let (BookStatus::Lent, Some(loan_id)) = (book.status, book.loan_id) else {
            bail!("copy {number} was not lent: {:?} {:?}", book.status, book.issues);
        };
        writeln!(out, "LOAN {loan_id}")?;
        out.flush()?;

        let back = desk.check_in(&number).with_context(|| format!("returning copy {number}"))?;
        if back.loan_id != loan_id {
            bail!("returning copy {number} closed loan {} instead of {loan_id}", back.loan_id);
        }
        writeln!(out, "RETURN {loan_id}")?;
        out.flush()?;
    }
    Ok(())
}

/// Adds the title and its copies unless a previous run already did (they
/// are added in one transaction, so copy "1" stands for all of them).
fn ensure_books(desk: &mut Desk) -> Result<()> {
    match desk.copy_by_registration_number("1") {
        Ok(_) => return Ok(()),
        Err(e) if e.code() == ErrorCode::NotFound => {}
        Err(e) => return Err(e).context("looking up copy 1"),
    }
    let numbers: Vec<String> = (1..=COPIES).map(|n| n.to_string()).collect();
    desk.add_title_with_copies(TitleInput { title: "کتاب آزمون".into(), ..TitleInput::default() }, &numbers)
        .context("adding the books")?;
    Ok(())
}

/// The member, registered unless a previous run already did.
fn ensure_member(desk: &mut Desk) -> Result<Uuid> {
    if let Some(m) = desk.find_members(NATIONAL_ID, 10).context("finding the member")?.first() {
        return Ok(m.id);
    }
    let outcome = desk
        .register_member(RegisterMember::new(
            MemberDetails {
                father_name: "علی".into(),
                national_id: Some(NATIONAL_ID.into()),
                ..MemberDetails::named("سارا", "آزمون", Gender::Female)
            },
            FeeInput::Paid { amount_rials: 350_000, receipt_number: "1".into() },
        ))
        .context("registering the member")?;
    match outcome {
        RegisterOutcome::Registered { member } => Ok(member.id),
        RegisterOutcome::DuplicateNationalId { existing } => {
            existing.first().map(|m| m.id).context("duplicate national id reported without a member")
        }
    }
}
