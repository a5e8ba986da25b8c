//! The loan window's use cases: check out, check in, renew, void.

use super::*;

impl Desk {
    /// Checks each book as it is scanned, without recording anything.
    pub fn preview_check_out(&self, member_id: Uuid, registration_numbers: &[String]) -> Result<CheckOutResult> {
        self.preview_loan(&CheckOutRequest::new(member_id, registration_numbers.iter().cloned()))
    }

    /// Checks the books of a loan as `check_out` would (on a van visit, its
    /// due date is the village's next visit), without recording anything.
    pub fn preview_loan(&self, req: &CheckOutRequest) -> Result<CheckOutResult> {
        self.signed()?;
        let member = self.member(req.member_id)?;
        self.evaluate(&self.conn, &member, req, false)
    }

    /// Lends the books that may be lent, in one transaction, and reports for
    /// every registration number either its due date or every reason it
    /// was not lent.
    pub fn check_out(&mut self, req: CheckOutRequest) -> Result<CheckOutResult> {
        let staff = self.require(Permission::LoanDesk)?.clone();
        self.check_circulation_clock()?;
        let member = self.member(req.member_id)?;
        if member.merged_into.is_some() {
            return Err(StoreError::Conflict(
                "این پرونده عضو با پرونده دیگری ادغام شده است؛ کارت را دوباره اسکن کنید.".into(),
            ));
        }
        let reason = req.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        let can_override = staff.role.allows(Permission::OverrideLoanRules);
        if reason.is_some() && !can_override {
            return Err(StoreError::Forbidden("فقط مدیر مرکز می‌تواند از قواعد امانت چشم‌پوشی کند.".into()));
        }
        let staff_id = staff.id;
        let req = CheckOutRequest { override_reason: reason, ..req };
        let (due_on, village_id) = self.loan_due(&req)?;
        let mut out = self.evaluate(&self.conn, &member, &req, true)?;
        self.write(|w| {
            let today = w.today();
            for b in out.books.iter_mut().filter(|b| b.status == BookStatus::Ready) {
                let copy_id = b.loan_id.take().ok_or_else(|| StoreError::Corrupt("copy id".into()))?;
                // The check ran just before this transaction; the one fact
                // another connection could have changed meanwhile is re-read.
                let taken: bool =
                    w.tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM open_loans WHERE copy_id = ?1)")?
                        .query_row([copy_id.to_string()], |r| r.get(0))?;
                if taken {
                    b.status = BookStatus::Refused;
                    b.due_on = None;
                    b.due_on_jalali = None;
                    b.issues.push(LoanIssue {
                        code: IssueCode::AlreadyOnLoan,
                        severity: Severity::Refusal,
                        overridable: false,
                        message: "این کتاب همین حالا در میز دیگری امانت داده شد.".into(),
                    });
                    continue;
                }
                let refusals: Vec<IssueCode> =
                    b.issues.iter().filter(|i| i.severity == Severity::Refusal).map(|i| i.code).collect();
                let overridden = (!refusals.is_empty()).then(|| Override {
                    by_staff: staff_id,
                    reason: req.override_reason.clone().unwrap_or_default(),
                    codes: refusals,
                });
                b.loan_id = Some(record_loan(w, copy_id, req.member_id, today, due_on, overridden, village_id)?);
                b.status = BookStatus::Lent;
                b.due_on = Some(due_on);
                b.due_on_jalali = Some(jalali(due_on));
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The shared check. In `for_write` mode a Ready book carries its copy
    /// id in `loan_id` until the loan is recorded.
    pub(super) fn evaluate(
        &self,
        conn: &Connection,
        member: &MemberView,
        req: &CheckOutRequest,
        for_write: bool,
    ) -> Result<CheckOutResult> {
        let center = self.id()?.center.id;
        let today = self.today();
        let reference = self.reference()?;
        let groups = &reference.age_groups;
        let mut standing = member_standing(conn, member, today, groups)?;
        let rule = reference.policy.rule_for(self.id()?.center.kind);
        let override_given = req.override_reason.is_some();
        // Shown on every row that may be lent, before the loan is confirmed.
        let (due_on, _) = self.loan_due(req)?;
        let mut seen: Vec<String> = Vec::new();
        let mut books = Vec::with_capacity(req.registration_numbers.len());
        for raw in &req.registration_numbers {
            let number = normalize_registration_number(raw);
            let facts = copy_facts(conn, center, member.id, &number, groups)?;
            let mut issues = check_loan(&standing, &facts.standing, rule, today);
            if seen.contains(&number) {
                issues.insert(
                    0,
                    LoanIssue {
                        code: IssueCode::RepeatedInThisLoan,
                        severity: Severity::Refusal,
                        overridable: false,
                        message: "این شماره ثبت در همین امانت دو بار آمده است.".into(),
                    },
                );
            }
            seen.push(number.clone());
            let lendable = may_lend(&issues, req.confirm_warnings, override_given);
            let status = if lendable {
                standing.in_this_loan += 1;
                BookStatus::Ready
            } else if may_lend(&issues, true, true) {
                BookStatus::NeedsConfirmation
            } else {
                BookStatus::Refused
            };
            books.push(BookOutcome {
                registration_number: number,
                title: facts.title,
                status,
                issues,
                loan_id: if for_write && status == BookStatus::Ready { facts.id } else { None },
                due_on: (status != BookStatus::Refused).then_some(due_on),
                due_on_jalali: (status != BookStatus::Refused).then(|| jalali(due_on)),
            });
        }
        Ok(CheckOutResult { books })
    }

    /// Closes the open loan of the scanned copy, whoever holds it, and
    /// reports lateness. Nothing is written if the copy is not on loan.
    pub fn check_in(&mut self, registration_number: &str) -> Result<CheckInResult> {
        self.require(Permission::LoanDesk)?;
        self.check_circulation_clock()?;
        let number = normalize_registration_number(registration_number);
        let center = self.id()?.center.id;
        let found = self
            .conn
            .prepare_cached(
                "SELECT o.loan_id, o.copy_id, t.title, o.member_id, o.lent_on, o.due_on
                 FROM copies c JOIN open_loans o ON o.copy_id = c.id JOIN titles t ON t.id = c.title_id
                 WHERE c.registration_number = ?1
                 ORDER BY c.center_id = ?2 DESC, o.lent_on, o.loan_id LIMIT 1",
            )?
            .query_row(params![number, center.to_string()], |r| {
                Ok((
                    (uuid_column(r, 0)?, uuid_column(r, 1)?, r.get::<_, String>(2)?, uuid_column(r, 3)?),
                    (date_column(r, 4)?, date_column(r, 5)?),
                ))
            })
            .optional()?;
        let Some(((loan_id, copy_id, title, member_id), (lent_on, due_on))) = found else {
            // Say which: unknown number, or a copy that is not out.
            self.copy_by_registration_number(&number)?;
            return Err(StoreError::Conflict(format!(
                "کتاب با شماره ثبت «{}» در امانت نیست؛ آن را به قفسه برگردانید.",
                text::to_persian_digits(&number)
            )));
        };
        let returned_on = self.write(|w| {
            let returned_on = w.today();
            w.event(Uuid::now_v7(), Event::Return { loan_id, copy_id, returned_on })?;
            w.tx.prepare_cached("DELETE FROM open_loans WHERE loan_id = ?1")?.execute([loan_id.to_string()])?;
            Ok(returned_on)
        })?;
        let member = self.member(member_id)?;
        Ok(CheckInResult {
            loan_id,
            registration_number: number,
            title,
            member: MemberSummary {
                id: member.id,
                member_number: member.member_number,
                full_name: member.full_name,
                father_name: member.details.father_name,
                national_id: member.national_id,
                membership_ends_on: member.membership.ends_on,
                membership_ends_jalali: member.membership.ends_on_jalali,
            },
            lent_on_jalali: jalali(lent_on),
            due_on_jalali: jalali(due_on),
            days_late: days_late(due_on, returned_on),
        })
    }

    /// Records a call to the member's family about their overdue books
    /// (synced like every event; it changes no loan).
    pub fn record_reminder_call(&mut self, member_id: Uuid, note: &str) -> Result<()> {
        self.require(Permission::LoanDesk)?;
        self.check_circulation_clock()?;
        let note = text::clean_text(note);
        if note.is_empty() {
            return Err(StoreError::InvalidInput(
                "نتیجه تماس را بنویسید (مثلاً «پاسخ نداد» یا «قول داد فردا بیاورد»).".into(),
            ));
        }
        if note.chars().count() > 500 {
            return Err(StoreError::InvalidInput("یادداشت تماس را کوتاه‌تر بنویسید (تا ۵۰۰ نویسه).".into()));
        }
        let today = self.today();
        let loan_ids: Vec<Uuid> = self
            .conn
            .prepare_cached("SELECT loan_id FROM open_loans WHERE member_id = ?1 AND due_on < ?2 ORDER BY due_on")?
            .query_map(params![member_id.to_string(), today.to_string()], |r| uuid_column(r, 0))?
            .collect::<rusqlite::Result<_>>()?;
        if loan_ids.is_empty() {
            return Err(StoreError::Conflict("این عضو کتاب دیرکرددار ندارد.".into()));
        }
        self.write(|w| {
            w.event(Uuid::now_v7(), Event::ReminderCall { member_id, loan_ids, called_on: today, note })?;
            Ok(())
        })
    }

    /// Extends an open loan from today by the loan period, within the
    /// policy's number of renewals.
    pub fn renew_loan(&mut self, loan_id: Uuid) -> Result<LoanView> {
        self.require(Permission::LoanDesk)?;
        self.check_circulation_clock()?;
        let (member_id, renewals, current_due): (String, u32, String) = self
            .conn
            .query_row(
                "SELECT member_id, renewals, due_on FROM open_loans WHERE loan_id = ?1",
                [loan_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound("این امانت باز نیست؛ شاید کتاب پیش‌تر برگشته است.".into()))?;
        let current_due = parse_date(&current_due)?;
        let policy = self.policy()?;
        let rule = policy.rule_for(self.id()?.center.kind).clone();
        if policy.closed.due_date(self.today(), rule.loan_days) <= current_due {
            return Err(StoreError::Conflict(format!(
                "این امانت تا {} اعتبار دارد و تمدید امروز آن را دیرتر نمی‌کند.",
                jalali(current_due)
            )));
        }
        if renewals >= rule.max_renewals {
            return Err(StoreError::Conflict(format!(
                "این امانت {} بار تمدید شده و بیش از این تمدید نمی‌شود؛ کتاب را بازگردانید.",
                text::to_persian_digits(&renewals.to_string())
            )));
        }
        self.write(|w| {
            // From today, but never earlier than the loan is already due.
            let due_on = policy.closed.due_date(w.today(), rule.loan_days).max(current_due);
            w.event(Uuid::now_v7(), Event::Renewal { loan_id, due_on })?;
            w.tx.execute(
                "UPDATE open_loans SET due_on = ?2, renewals = renewals + 1 WHERE loan_id = ?1",
                params![loan_id.to_string(), due_on.to_string()],
            )?;
            Ok(())
        })?;
        let member_id = parse_uuid(&member_id)?;
        self.open_loans_of(member_id)?
            .into_iter()
            .find(|l| l.loan_id == loan_id)
            .ok_or_else(|| StoreError::Corrupt("تمدید ثبت شد ولی امانت پیدا نشد".into()))
    }

    /// Cancels a mistaken loan, return, renewal or membership payment with
    /// a correcting event; both events stay in the log.
    pub fn void_event(&mut self, event_id: Uuid, reason: &str) -> Result<()> {
        self.require(Permission::VoidRecords)?;
        self.check_circulation_clock()?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::InvalidInput("دلیل ابطال را بنویسید.".into()));
        }
        let (kind, data): (String, String) = self
            .conn
            .query_row("SELECT kind, data FROM events WHERE id = ?1", [event_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound("رویدادی که باید باطل شود پیدا نشد.".into()))?;
        if kind == "void" {
            return Err(StoreError::InvalidInput("ابطال را نمی‌توان باطل کرد؛ رویداد درست را دوباره ثبت کنید.".into()));
        }
        let already: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM voided WHERE event_id = ?1)",
            [event_id.to_string()],
            |r| r.get(0),
        )?;
        if already {
            return Err(StoreError::Conflict("این رویداد پیش‌تر باطل شده است.".into()));
        }
        let event: Event = serde_json::from_str(&data)?;
        match &event {
            Event::Return { loan_id, copy_id, .. } => self.check_return_can_be_voided(*loan_id, *copy_id)?,
            Event::Transfer { copy_id, from_center, .. } => {
                self.check_transfer_can_be_voided(*copy_id, *from_center)?
            }
            _ => {}
        }
        self.write(|w| {
            let void_id = Uuid::now_v7();
            w.event(void_id, Event::Void { target: event_id, reason: reason.to_owned() })?;
            w.tx.execute(
                "INSERT INTO voided (event_id, void_id) VALUES (?1, ?2)",
                params![event_id.to_string(), void_id.to_string()],
            )?;
            rederive(&w.tx, &event)?;
            Ok(())
        })
    }

    /// Voiding a return reopens its loan; refused when that would put the
    /// copy on loan twice or the member over the loan limit.
    pub(super) fn check_return_can_be_voided(&self, loan_id: Uuid, copy_id: Uuid) -> Result<()> {
        let lent_again: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM open_loans WHERE copy_id = ?1)",
            [copy_id.to_string()],
            |r| r.get(0),
        )?;
        if lent_again {
            return Err(StoreError::Conflict(
                "این کتاب پس از آن بازگشت دوباره امانت داده شده است؛ ابتدا آن امانت را بررسی کنید.".into(),
            ));
        }
        let open: u32 = self.conn.query_row(
            "SELECT count(*) FROM open_loans WHERE member_id = (SELECT member_id FROM events WHERE id = ?1)",
            [loan_id.to_string()],
            |r| r.get(0),
        )?;
        let policy = self.policy()?;
        if open >= policy.rule_for(self.id()?.center.kind).max_open_loans {
            return Err(StoreError::Conflict(
                "با ابطال این بازگشت، امانت‌های عضو از سقف بیشتر می‌شود؛ به‌جای ابطال، امانت تازه‌ای با اجازه مدیر ثبت کنید."
                    .into(),
            ));
        }
        Ok(())
    }

    /// Voiding a transfer brings the copy back; refused when its number has
    /// since been given to another copy here.
    pub(super) fn check_transfer_can_be_voided(&self, copy_id: Uuid, back_to: Uuid) -> Result<()> {
        if back_to != self.id()?.center.id {
            return Ok(());
        }
        let number = self.copy(copy_id)?.registration_number;
        match crate::rows::copy::active_with_number(&self.conn, back_to, &number)? {
            Some(other) if other != copy_id => Err(StoreError::Conflict(format!(
                "شماره ثبت «{}» این نسخه اکنون به نسخه دیگری داده شده است؛ ابتدا شماره یکی از دو نسخه را اصلاح کنید.",
                text::to_persian_digits(&number)
            ))),
            _ => Ok(()),
        }
    }
}
