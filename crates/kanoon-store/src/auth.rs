//! Staff passwords, sign-in and who may do what on this desk.
//!
//! Passwords are kept as argon2id hashes in the desk-local
//! `staff_passwords` table (never synced). Wrong passwords are counted per
//! username in the desk-local `sign_in_failures` table, timed with the
//! desk's clock: after [`FREE_ATTEMPTS`] wrong in a row the username waits
//! [`FIRST_WAIT`], doubling with every further wrong password up to
//! [`MAX_WAIT`]. A right password after the wait signs in and clears the
//! count, so nobody (the only manager included) is locked out for good.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use kanoon_domain::entities::{Permission, Staff};
use kanoon_domain::text::to_persian_digits;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::{Result, StoreError};

/// Shortest password accepted: the desk is shared by several instructors.
pub const MIN_PASSWORD_CHARS: usize = 6;
/// Wrong passwords in a row a username may type before it has to wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// The first wait, doubled by every further wrong password.
pub const FIRST_WAIT: Duration = Duration::seconds(30);
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::minutes(15);

/// An argon2id hash (PHC string) of `password`, refused when too short.
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StoreError::InvalidInput(format!(
            "رمز باید دست‌کم {} نویسه باشد؛ رمز بلندتری انتخاب کنید.",
            to_persian_digits(&MIN_PASSWORD_CHARS.to_string())
        )));
    }
    let failed =
        |e: argon2::password_hash::Error| StoreError::Corrupt(format!("ساختن رمز ممکن نشد ({e}); دوباره تلاش کنید."));
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(failed)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(failed)?.to_string())
}

/// Refuses anything but an argon2id hash in PHC form.
pub(crate) fn check_hash(hash: &str) -> Result<()> {
    match PasswordHash::new(hash) {
        Ok(h) if h.algorithm == argon2::Algorithm::Argon2id.ident() => Ok(()),
        _ => Err(StoreError::InvalidInput("رمز مدیر به شکل درهم‌سازی‌شده argon2id نیست.".into())),
    }
}

/// False for a wrong password and for a stored hash that does not parse.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password is checked against in earnest: an unknown username
/// costs as much time as a known one.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// How long a username waits after `failures` wrong passwords in a row.
pub fn wait_after(failures: u32) -> Option<Duration> {
    let extra = failures.checked_sub(FREE_ATTEMPTS)?;
    let factor = 1i64.checked_shl(extra.min(20)).unwrap_or(i64::MAX);
    Some(FIRST_WAIT.checked_mul(factor as i32).unwrap_or(MAX_WAIT).min(MAX_WAIT))
}

/// "۳۰ ثانیه", "۲ دقیقه", "۱ دقیقه و ۳۰ ثانیه" (rounded up to seconds).
fn persian_duration(d: Duration) -> String {
    let secs = (d.num_milliseconds() + 999).div_euclid(1000).max(1);
    let (m, s) = (secs / 60, secs % 60);
    let n = |x: i64| to_persian_digits(&x.to_string());
    match (m, s) {
        (0, s) => format!("{} ثانیه", n(s)),
        (m, 0) => format!("{} دقیقه", n(m)),
        (m, s) => format!("{} دقیقه و {} ثانیه", n(m), n(s)),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Refuses while `username` has to wait.
fn check_not_waiting(conn: &Connection, username: &str, now: DateTime<Utc>) -> Result<()> {
    let until: Option<Option<String>> = conn
        .query_row("SELECT locked_until FROM sign_in_failures WHERE username = ?1", [username], |r| r.get(0))
        .optional()?;
    let until = until.flatten().and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc));
    match until {
        Some(until) if until > now => Err(StoreError::TooManyAttempts { wait: persian_duration(until - now) }),
        _ => Ok(()),
    }
}

/// Counts one more wrong password for `username` (outside any use case's
/// transaction: a refused sign-in writes nothing else, and no op).
fn record_failure(conn: &Connection, username: &str, now: DateTime<Utc>) -> Result<StoreError> {
    let failures: u32 = conn.query_row(
        "INSERT INTO sign_in_failures (username, failures) VALUES (?1, 1)
         ON CONFLICT (username) DO UPDATE SET failures = failures + 1
         RETURNING failures",
        [username],
        |r| r.get(0),
    )?;
    if let Some(wait) = wait_after(failures) {
        conn.execute(
            "UPDATE sign_in_failures SET locked_until = ?2 WHERE username = ?1",
            params![username, stamp(now + wait)],
        )?;
        return Ok(StoreError::TooManyAttempts { wait: persian_duration(wait) });
    }
    Ok(StoreError::WrongCredentials)
}

fn clear_failures(conn: &Connection, username: &str) -> Result<()> {
    conn.execute("DELETE FROM sign_in_failures WHERE username = ?1", [username])?;
    Ok(())
}

fn stored_hash(conn: &Connection, staff_id: Uuid) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT hash FROM staff_passwords WHERE staff_id = ?1", [staff_id.to_string()], |r| r.get(0))
        .optional()?)
}

/// Writes `staff_id`'s hash (desk-local: no op).
pub(crate) fn store_hash(conn: &Connection, staff_id: Uuid, hash: &str, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "INSERT INTO staff_passwords (staff_id, hash, set_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (staff_id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
        params![staff_id.to_string(), hash, stamp(now)],
    )?;
    Ok(())
}

/// Checks a server address for enrolment: `https://` anywhere, `http://`
/// only to this computer itself (127.0.0.0/8, ::1, localhost: a local test
/// or proxy). Returns it without a trailing slash.
pub fn check_server_url(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    let refused = || {
        StoreError::InvalidInput(
            "نشانی سرور باید با https:// آغاز شود (مثل https://sync.example.ir)؛ http:// بی‌رمز است و \
             فقط برای سروری روی همین رایانه پذیرفته می‌شود. نشانی را از کارشناس استان بگیرید."
                .into(),
        )
    };
    let lower = url.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(refused());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || url.chars().any(char::is_whitespace) {
        return Err(refused());
    }
    if secure {
        return Ok(url.to_owned());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((host, port)) if port.is_empty() || port.starts_with(':') => host,
            _ => return Err(refused()),
        }
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let loopback = host == "localhost"
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    if loopback { Ok(url.to_owned()) } else { Err(refused()) }
}

impl Desk {
    /// Signs a staff member in with their password. Wrong passwords are
    /// counted per username; after five in a row the username has to wait
    /// (`TooManyAttempts`, with how long) before the next try.
    pub fn sign_in(&mut self, username: &str, password: &str) -> Result<Staff> {
        self.id()?;
        let username = username.trim();
        let now = self.now();
        check_not_waiting(&self.conn, username, now)?;
        let staff = crate::rows::staff::by_username(&self.conn, username)?.filter(|s| s.active);
        let hash = match &staff {
            Some(s) => stored_hash(&self.conn, s.id)?,
            None => None,
        };
        let right = verify_password(password, hash.as_deref().unwrap_or_else(|| dummy_hash())) && hash.is_some();
        match staff {
            Some(staff) if right => {
                clear_failures(&self.conn, username)?;
                self.staff = Some(staff.clone());
                Ok(staff)
            }
            _ => Err(record_failure(&self.conn, username, now)?),
        }
    }

    /// The signed-in staff member changes their own password: the current
    /// one is asked for (a wrong one counts like a wrong sign-in).
    pub fn change_password(&mut self, current: &str, new: &str) -> Result<()> {
        let me = self.signed()?.clone();
        let now = self.now();
        check_not_waiting(&self.conn, &me.username, now)?;
        let hash = stored_hash(&self.conn, me.id)?;
        if !hash.is_some_and(|h| verify_password(current, &h)) {
            return Err(match record_failure(&self.conn, &me.username, now)? {
                StoreError::WrongCredentials => {
                    StoreError::InvalidInput("رمز کنونی درست نیست؛ رمز کنونی خود را دوباره وارد کنید.".into())
                }
                other => other,
            });
        }
        let hash = hash_password(new)?;
        clear_failures(&self.conn, &me.username)?;
        store_hash(&self.conn, me.id, &hash, now)
    }

    /// A manager sets another staff member's password (a forgotten one),
    /// without the old one; this also ends that username's wait.
    pub fn reset_password(&mut self, username: &str, new: &str) -> Result<()> {
        let me = self.require(Permission::ManageStaff)?.clone();
        let staff = crate::rows::staff::by_username(&self.conn, username.trim())?
            .ok_or_else(|| StoreError::NotFound(format!("کاربری با نام «{}» نیست.", username.trim())))?;
        if staff.id == me.id {
            return Err(StoreError::InvalidInput(
                "برای تغییر رمز خودتان، رمز کنونی را هم وارد کنید (بخش «تغییر رمز من»).".into(),
            ));
        }
        let hash = hash_password(new)?;
        clear_failures(&self.conn, &staff.username)?;
        store_hash(&self.conn, staff.id, &hash, self.now())
    }

    /// A manager adds a staff member with their first password.
    pub fn add_staff_with_password(
        &mut self,
        username: &str,
        full_name: &str,
        role: kanoon_domain::entities::Role,
        password: &str,
    ) -> Result<Staff> {
        self.require(Permission::ManageStaff)?;
        let hash = hash_password(password)?;
        let staff = self.add_staff(username, full_name, role)?;
        store_hash(&self.conn, staff.id, &hash, self.now())?;
        Ok(staff)
    }

    /// Checks, before the shell contacts a server, that the signed-in staff
    /// member may enrol this desk and that the address is acceptable
    /// (see [`check_server_url`]). Returns the address to use.
    pub fn check_enrolment_server(&self, url: &str) -> Result<String> {
        self.require(Permission::EnrolDesk)?;
        check_server_url(url)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn waits_double_from_the_fifth_wrong_password_up_to_fifteen_minutes() {
        assert_eq!(wait_after(4), None);
        assert_eq!(wait_after(5), Some(Duration::seconds(30)));
        assert_eq!(wait_after(6), Some(Duration::seconds(60)));
        assert_eq!(wait_after(9), Some(Duration::seconds(480)));
        assert_eq!(wait_after(10), Some(Duration::minutes(15)));
        assert_eq!(wait_after(u32::MAX), Some(Duration::minutes(15)));
        assert_eq!(persian_duration(Duration::seconds(90)), "۱ دقیقه و ۳۰ ثانیه");
        assert_eq!(persian_duration(Duration::milliseconds(29_001)), "۳۰ ثانیه");
    }

    #[test]
    fn a_hash_verifies_only_its_password() -> Result<()> {
        let h = hash_password("کتاب۱۲۳۴")?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("کتاب۱۲۳۴", &h));
        assert!(!verify_password("کتاب1234x", &h));
        assert!(!verify_password("کتاب۱۲۳۴", "not a hash"));
        assert_ne!(hash_password("کتاب۱۲۳۴")?, h, "salted");
        assert_eq!(hash_password("۱۲۳").err().map(|e| e.code()), Some(crate::ErrorCode::InvalidInput));
        Ok(())
    }

    #[test]
    fn plain_http_is_refused_except_to_this_computer() {
        for ok in [
            "https://sync.kanoon-markazi.ir",
            "https://sync.kanoon-markazi.ir:8443/",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:3000/",
            "HTTP://LOCALHOST",
            "http://[::1]:8080",
        ] {
            assert!(check_server_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://sync.kanoon-markazi.ir",
            "http://192.168.1.10:8080",
            "http://127.0.0.1.evil.ir",
            "http://localhost.evil.ir",
            "http://localhost@evil.ir",
            "http://[::2]:80",
            "http://[::1]x",
            "ftp://127.0.0.1",
            "sync.kanoon-markazi.ir",
            "https://",
        ] {
            assert!(check_server_url(bad).is_err(), "{bad}");
        }
        assert_eq!(check_server_url(" https://a.ir/ ").unwrap(), "https://a.ir");
    }
}
