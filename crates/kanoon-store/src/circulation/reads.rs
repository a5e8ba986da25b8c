//! Loans as the window lists them: a member's open loans and history,
//! overdue, today's counters, the whole log.

use super::*;

impl Desk {
    /// The member's open loans, earliest due first.
    pub fn open_loans_of(&self, member_id: Uuid) -> Result<Vec<LoanView>> {
        self.signed()?;
        let today = self.today();
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.loan_id, o.copy_id, c.registration_number, t.title, o.lent_on, o.due_on, o.renewals
             FROM open_loans o JOIN copies c ON c.id = o.copy_id JOIN titles t ON t.id = c.title_id
             WHERE o.member_id = ?1 ORDER BY o.due_on, o.loan_id",
        )?;
        let rows = stmt.query_map([member_id.to_string()], |r| {
            let (lent_on, due_on) = (date_column(r, 4)?, date_column(r, 5)?);
            Ok(LoanView {
                loan_id: uuid_column(r, 0)?,
                copy_id: uuid_column(r, 1)?,
                registration_number: r.get(2)?,
                title: r.get(3)?,
                lent_on,
                lent_on_jalali: jalali(lent_on),
                due_on,
                due_on_jalali: jalali(due_on),
                renewals: r.get(6)?,
                days_overdue: days_late(due_on, today),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The member's loans, newest first, with returns and voids.
    pub fn loan_history(&self, member_id: Uuid, limit: usize) -> Result<Vec<LoanHistoryRow>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.id, c.registration_number, t.title, l.data,
                    (SELECT json_extract(r.data, '$.returned_on') FROM events r
                       WHERE r.loan_id = l.id AND r.kind = 'return'
                         AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = r.id) LIMIT 1),
                    EXISTS (SELECT 1 FROM voided v WHERE v.event_id = l.id),
                    (SELECT json_extract(n.data, '$.due_on') FROM events n
                       WHERE n.loan_id = l.id AND n.kind = 'renewal'
                         AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = n.id) ORDER BY n.hlc DESC LIMIT 1),
                    (SELECT r.id FROM events r
                       WHERE r.loan_id = l.id AND r.kind = 'return'
                         AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = r.id) LIMIT 1)
             FROM events l JOIN copies c ON c.id = l.copy_id JOIN titles t ON t.id = c.title_id
             WHERE l.member_id = ?1 AND l.kind = 'loan' ORDER BY l.hlc DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![member_id.to_string(), limit as i64], |r| {
            Ok((
                uuid_column(r, 0)?,
                (r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?),
                optional_date_column(r, 4)?,
                r.get::<_, bool>(5)?,
                optional_date_column(r, 6)?,
                optional_uuid_column(r, 7)?,
            ))
        })?;
        rows.map(|r| {
            let (loan_id, (registration_number, title, data), returned, voided, renewed_due, return_id) = r?;
            let Event::Loan { lent_on, due_on, overridden, .. } = serde_json::from_str(&data)? else {
                return Err(StoreError::Corrupt("رویداد امانت".into()));
            };
            Ok(LoanHistoryRow {
                loan_id,
                registration_number,
                title,
                lent_on_jalali: jalali(lent_on),
                due_on_jalali: jalali(renewed_due.unwrap_or(due_on)),
                returned_on_jalali: returned.map(jalali),
                return_id,
                voided,
                overridden: overridden.is_some(),
            })
        })
        .collect()
    }

    /// Overdue loans with the guardian's phone, most overdue first.
    pub fn overdue_loans(&self) -> Result<Vec<OverdueRow>> {
        self.signed()?;
        let today = self.today();
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.loan_id, m.id, m.member_number, m.first_name || ' ' || m.last_name, m.guardian_phone,
                    c.registration_number, t.title, o.due_on, call.called_on, call.note
             FROM open_loans o JOIN members m ON m.id = o.member_id JOIN copies c ON c.id = o.copy_id
             JOIN titles t ON t.id = c.title_id
             LEFT JOIN (
                 SELECT member_id, json_extract(data, '$.called_on') AS called_on, json_extract(data, '$.note') AS note,
                        row_number() OVER (PARTITION BY member_id ORDER BY hlc DESC) AS n
                 FROM events e WHERE kind = 'reminder_call'
                   AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = e.id)
             ) call ON call.member_id = m.id AND call.n = 1
             WHERE o.due_on < ?1 ORDER BY o.due_on, m.sort_key",
        )?;
        let rows = stmt.query_map([today.to_string()], |r| {
            let due_on = date_column(r, 7)?;
            let called_on = optional_date_column(r, 8)?;
            Ok(OverdueRow {
                loan_id: uuid_column(r, 0)?,
                member_id: uuid_column(r, 1)?,
                member_number: r.get(2)?,
                member_name: r.get(3)?,
                guardian_phone: r.get(4)?,
                registration_number: r.get(5)?,
                title: r.get(6)?,
                due_on_jalali: jalali(due_on),
                days_overdue: days_late(due_on, today),
                last_call: called_on
                    .map(|d| {
                        Ok::<_, rusqlite::Error>(ReminderCallView {
                            called_on_jalali: jalali(d),
                            note: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
                        })
                    })
                    .transpose()?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Today's circulation (Tehran day) for the home screen.
    pub fn todays_circulation(&self) -> Result<TodaySummary> {
        self.signed()?;
        let today = self.today();
        let (from, to) = tehran_day_bounds(today);
        let count = |sql: &str| -> Result<u32> {
            Ok(self.conn.prepare_cached(sql)?.query_row(params![from, to], |r| r.get(0))?)
        };
        let counted = |kind: &str| {
            count(&format!(
                "SELECT count(*) FROM events e WHERE e.kind = '{kind}' AND e.at >= ?1 AND e.at < ?2
                   AND NOT EXISTS (SELECT 1 FROM voided v WHERE v.event_id = e.id)"
            ))
        };
        Ok(TodaySummary {
            date_jalali: JalaliDate::from_gregorian(today).to_long_persian(),
            loans: counted("loan")?,
            returns: counted("return")?,
            renewals: counted("renewal")?,
            new_members: count("SELECT count(*) FROM members WHERE created_at >= ?1 AND created_at < ?2")?,
            overdue: self
                .conn
                .prepare_cached("SELECT count(*) FROM open_loans WHERE due_on < ?1")?
                .query_row([today.to_string()], |r| r.get(0))?,
        })
    }
}

/// The UTC instants (RFC 3339) where a Tehran calendar day starts and ends.
pub(super) fn tehran_day_bounds(day: NaiveDate) -> (String, String) {
    let start = |d: NaiveDate| {
        Tehran
            .from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_time(NaiveTime::MIN).and_utc())
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    (start(day), start(day.succ_opt().unwrap_or(day)))
}

impl Desk {
    /// The whole event log (sync, audits and the tests that compare the
    /// derived tables with the domain fold).
    pub fn event_log(&self) -> Result<Vec<EventRecord>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached("SELECT id, hlc, device_id, at, data FROM events ORDER BY hlc")?;
        read_events(&mut stmt, [])
    }

    /// The derived open-loans table as domain values.
    pub fn all_open_loans(&self) -> Result<Vec<kanoon_domain::circulation::OpenLoan>> {
        self.signed()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT loan_id, copy_id, member_id, lent_on, due_on, renewals FROM open_loans ORDER BY loan_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(kanoon_domain::circulation::OpenLoan {
                loan_id: uuid_column(r, 0)?,
                copy_id: uuid_column(r, 1)?,
                member_id: uuid_column(r, 2)?,
                lent_on: date_column(r, 3)?,
                due_on: date_column(r, 4)?,
                renewals: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
