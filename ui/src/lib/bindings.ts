// Generated from the Rust types by `KANOON_UPDATE_BINDINGS=1 cargo test -p kanoon-desk bindings`.
// Do not edit: change the Rust type and regenerate.

export type ActivityKindView = { code: string, name: string, 
/**
 * The center's own record (None: the province's list).
 */
id: string | null, retired: boolean, };

export type AgeGroup = { 
/**
 * As printed on the book: "الف", "ب", "+7", ...
 */
code: string, scheme: AgeScheme, 
/**
 * Shown to staff, e.g. «گروه ب: سال‌های اول تا سوم دبستان».
 */
label: string, 
/**
 * Youngest age (completed years) the group is meant for.
 */
min_age: number, 
/**
 * Order on the shelf within its scheme.
 */
sort: number, };

export type AgeScheme = "letters" | "minimum_age";

export type AlternativeId = { 
/**
 * e.g. «کارت آمایش», «گذرنامه», «برگه حمایت تحصیلی»
 */
kind: string, value: string, };

export type ApiError = { code: ApiErrorCode, message: string, };

export type ApiErrorCode = "invalid_input" | "not_found" | "conflict" | "clock_behind" | "clock_ahead" | "not_set_up" | "not_signed_in" | "forbidden" | "not_a_database" | "import_rejected" | "storage" | "unreachable" | "wrong_credentials" | "too_many_attempts" | "shell";

export type AppStatus = { set_up: boolean, center: Center | null, desk_number: number | null, signed_in: Staff | null, today: string, today_jalali: string, 
/**
 * Where the center's database file is: for a manager only (it is
 * shown in the backup section, not to everyone in the footer).
 */
database: string | null, test_clock: boolean, };

export type AttendanceArgs = { session_id: string, 
/**
 * As scanned or typed.
 */
card: string, };

export type AttendanceRow = { attendance_id: string, card: string, attendee: Attendee | null, 
/**
 * Tehran time it was recorded, "۱۴۰۵/۰۹/۱۶ ۱۰:۰۵".
 */
recorded_jalali: string, 
/**
 * Entered after the session's day, by `staff_name`.
 */
late: boolean, staff_name: string | null, };

export type AttendanceScan = { 
/**
 * None when the card was already in (nothing new recorded).
 */
attendance_id: string | null, card: string, attendee: Attendee | null, warnings: Array<AttendanceWarning>, 
/**
 * The session's attendance after it.
 */
count: number, };

export type AttendanceSheet = { workshop_id: string, title: string, sessions: Array<WorkshopSessionView>, rows: Array<SheetRow>, completion_percent: number, };

export type AttendanceWarning = { 
/**
 * `not_a_member`, `other_age_group`, `already_in`.
 */
code: string, message: string, };

export type Attendee = { member_id: string, member_number: string, full_name: string, age_group: string | null, };

export type BookOutcome = { registration_number: string, title: string | null, status: BookStatus, issues: Array<LoanIssue>, loan_id: string | null, due_on: string | null, due_on_jalali: string | null, };

export type BookStatus = "lent" | "ready" | "needs_confirmation" | "refused";

export type CancelSession = { session_id: string, reason: string, };

export type CancelWorkshop = { workshop_id: string, reason: string, };

export type CardView = { member_number: string, full_name: string, father_name: string, center_name: string, expires_jalali: string | null, photo_data_url: string | null, };

export type CashDay = { day: string, day_jalali: string, staff_id: string, entries: Array<CashEntryView>, totals: Array<DayTotalView>, cash_rials: number, card_rials: number, closed: DayClosed | null, };

export type CashEntryView = { id: string, 
/**
 * «۱-۱۲» (desk, then number).
 */
receipt: string, kind: PaymentKind, kind_name: string, method: PaymentMethod, method_name: string, pos_ref: string | null, 
/**
 * Negative for a refund.
 */
amount_rials: number, payer: string, member_id: string | null, 
/**
 * For a refund: the payment it gives back.
 */
refund_of: string | null, reason: string | null, staff_name: string | null, day_jalali: string, recorded_jalali: string, 
/**
 * For a payment: what may still be refunded.
 */
refundable_rials: number, 
/**
 * Tuition: the workshop it is for.
 */
workshop_id: string | null, workshop_title: string | null, participant_id: string | null, };

export type Center = { id: string, 
/**
 * Official center code (digits), the center's identity.
 */
code: string, name: string, kind: CenterKind, address: string, phone: string, };

export type CenterKind = "fixed" | "mobile" | "postal";

export type Certificate = { center_name: string, participant_name: string, workshop_title: string, term: string, instructor_name: string, first_on_jalali: string, last_on_jalali: string, sessions_held: number, attended: number, 
/**
 * Hours of the sessions attended.
 */
hours: string, issued_jalali: string, };

export type CheckInResult = { loan_id: string, registration_number: string, title: string, member: MemberSummary, lent_on_jalali: string, due_on_jalali: string, days_late: number, };

export type CheckOutRequest = { member_id: string, 
/**
 * As scanned or typed, in order.
 */
registration_numbers: Array<string>, 
/**
 * The instructor has seen the warnings and lends anyway.
 */
confirm_warnings: boolean, 
/**
 * Lend despite refusals that policy lets a manager override; recorded.
 */
override_reason: string | null, 
/**
 * Lent on this open van visit: due at the village's next visit.
 */
visit_id?: string, };

export type CheckOutResult = { books: Array<BookOutcome>, };

export type ClassRoster = { village_id: string, school_grade: number | null, fee: FeeInput, rows: Array<RosterRow>, };

export type CloseVisit = { visit_id: string, notes: string, };

export type ClosedDays = { 
/**
 * Closed every week (Friday).
 */
weekly: Array<string>, 
/**
 * Holidays by date; lunar holidays move, so each year has its own list.
 */
holidays: Array<string>, };

export type ColumnMapping = { 
/**
 * Field → column index.
 */
columns: { [key in Field]?: number }, };

export type CopyStatus = { "type": "available" } | { "type": "on_loan", member_number: string, member_name: string, due_on_jalali: string, } | { "type": "withdrawn", reason: WithdrawReason, } | { "type": "elsewhere", center_code: string, };

export type CopyView = { id: string, title_id: string, title: string, author: string, registration_number: string, age_group: string | null, status: CopyStatus, };

export type CopyWeek = { from: string, to: string, };

export type Credentials = { username: string, password: string, };

export type DayClosed = { confirmed_by: string | null, at_jalali: string, 
/**
 * The day's total as the manager confirmed it.
 */
confirmed_rials: number, };

export type DayRange = { from: string, to: string, };

export type DayTotalView = { kind_name: string, method_name: string, count: number, amount_rials: number, };

export type Documents = { photo: boolean, birth_certificate_copy: boolean, };

export type Draft = { form: string, body: string, };

export type EditMemberArgs = { member_id: string, details: MemberDetails, };

export type EditParticipant = { participant_id: string, participant: ParticipantInput, };

export type EditSession = { session_id: string, session: SessionInput, };

export type EditTitle = { title_id: string, title: TitleInput, };

export type EditWorkshop = { workshop_id: string, workshop: WorkshopInput, };

export type EnrolInput = { workshop_id: string, participant_id: string, 
/**
 * The part of the tuition the family is exempted from.
 */
exemption_rials: number, exemption_reason: string, 
/**
 * 1: in full.
 */
installments: number, 
/**
 * A manager enrolling past a full workshop.
 */
over_capacity: boolean, };

export type ExceptionResolution = { 
/**
 * The op that resolved it (`sync_exceptions.resolved_by`).
 */
op_id: string, note: string, staff_id: string | null, 
/**
 * Staff records of other desks are not applied yet, so the name
 * travels with the event.
 */
staff_name: string, resolved_at: string, };

export type FamilyList = { center_name: string, printed_jalali: string, workshops: Array<WorkshopSummary>, };

export type Fee = { "type": "paid", amount_rials: number, receipt_number: string, } | { "type": "exempt", exemption: string, reason: string, };

export type FeeCampaignView = { code: string, name: string, from: string, to: string, registration: boolean, renewal: boolean, active_today: boolean, };

export type FeeExemption = { code: string, name: string, active: boolean, };

export type FeeInput = { "type": "paid", amount_rials: number, receipt_number: string, } | { "type": "exempt", exemption: string, reason: string, };

export type Field = "member_number" | "first_name" | "last_name" | "full_name" | "father_name" | "gender" | "birth_date" | "national_id" | "alt_id_kind" | "alt_id" | "school_grade" | "guardian_phone" | "address" | "village" | "joined_on" | "membership_expires" | "registration_number" | "title" | "author" | "translator" | "illustrator" | "publisher" | "year" | "isbn" | "age_group" | "subjects" | "loan_member_number" | "loan_registration_number" | "loaned_on" | "due_on";

export type Gender = "female" | "male";

export type Holiday = { date: string, name: string, };

export type HolidayRange = { from: string, to: string, };

export type ImportArgs = { kind: ImportKind, file_base64: string, mapping: ColumnMapping, };

export type ImportCounts = { members: number, titles: number, copies: number, loans: number, };

export type ImportFile = { file_base64: string, };

export type ImportKind = "members" | "titles_copies" | "open_loans";

export type ImportPreview = { source: SourceInfo, headers: Array<string>, 
/**
 * The first rows as read, to help map columns.
 */
sample: Array<Array<string>>, rows: number, suggested: { [key in string]: ColumnMapping }, };

export type ImportReport = { kind: ImportKind, rows: number, errors: Array<RowError>, counts: ImportCounts, committed: boolean, };

export type InstructorMonth = { instructor_id: string, instructor_name: string, 
/**
 * "آذر ۱۴۰۵".
 */
month_name: string, held: number, cancelled: number, attendance: number, by_kind: Array<KindTotal>, 
/**
 * Held sessions in order, with their attendance.
 */
sessions: Array<SessionView>, };

export type IssueCode = "unknown_registration_number" | "copy_withdrawn" | "copy_lost" | "already_on_loan" | "already_on_loan_to_this_member" | "copy_at_another_center" | "repeated_in_this_loan" | "no_membership" | "membership_expired" | "limit_reached" | "overdue_books" | "for_older_readers";

export type JalaliDate = { year: number, month: number, day: number, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

export type KindRetired = { kind_id: string, retired: boolean, };

export type KindTotal = { kind_name: string, sessions: number, attendance: number, };

export type LanguageInstitute = { 
/**
 * The institute's site, where registration happens.
 */
site: string, 
/**
 * How to register for the placement test, in a few lines.
 */
how_to_register: string, branch_name: string, branch_address: string, branch_phone: string, notes: string, };

export type LinkParticipant = { participant_id: string, member_id: string, };

export type LoanHistoryRow = { loan_id: string, registration_number: string, title: string, lent_on_jalali: string, due_on_jalali: string, returned_on_jalali: string | null, 
/**
 * The return event, to void a return recorded by mistake.
 */
return_id: string | null, voided: boolean, overridden: boolean, };

export type LoanIssue = { code: IssueCode, severity: Severity, overridable: boolean, 
/**
 * Persian: what is wrong and what to do.
 */
message: string, };

export type LoanRule = { max_open_loans: number, loan_days: number, max_renewals: number, overdue: OverdueHandling, 
/**
 * Whether a manager may lend despite a refusal that can be overridden
 * (expired membership, limit reached, overdue block). Always recorded.
 */
allow_override: boolean, };

export type LoanView = { loan_id: string, copy_id: string, registration_number: string, title: string, lent_on: string, lent_on_jalali: string, due_on: string, due_on_jalali: string, renewals: number, days_overdue: number, };

export type MarkWorkshopAttendance = { workshop_id: string, 
/**
 * 1 = the first session.
 */
session: number, participant_id: string, present: boolean, };

export type MemberActivity = { session_id: string, title: string, kind_name: string, held_on_jalali: string, instructor_name: string, };

export type MemberDetails = { first_name: string, last_name: string, father_name: string, gender: Gender, birth_date: JalaliDate | null, 
/**
 * As typed (any digit script); validated.
 */
national_id: string | null, alternative_id: AlternativeId | null, school_grade: number | null, 
/**
 * As typed; validated.
 */
guardian_phone: string | null, address: string, 
/**
 * Typed by hand, or the name of `village_id` (set from it).
 */
village: string | null, 
/**
 * One of the center's villages, chosen from its list.
 */
village_id: string | null, documents: Documents, age_group_override: string | null, };

export type MemberEdit = { field: string, old_value: string | null, new_value: string | null, staff: string | null, at_jalali: string, };

export type MemberSummary = { id: string, member_number: string, full_name: string, father_name: string, national_id: string | null, 
/**
 * Last day of the latest membership period (compare with today).
 */
membership_ends_on: string | null, membership_ends_jalali: string | null, };

export type MemberView = { id: string, member_number: string, legacy_number: string | null, full_name: string, details: MemberDetails, 
/**
 * Normalized national id (10 digits).
 */
national_id: string | null, guardian_phone: string | null, 
/**
 * The age group used for the loan check: the override, else derived.
 */
age_group: string | null, has_photo: boolean, membership: MembershipState, merged_into: string | null, };

export type MembershipPeriod = { period_id: string, starts_on_jalali: string, ends_on_jalali: string, fee: Fee, recorded_at_jalali: string, voided: boolean, };

export type MembershipState = { ends_on: string | null, ends_on_jalali: string | null, active: boolean, };

export type MembershipTerms = { fee_rials: number, period_days: number, };

export type MonthArgs = { instructor_id: string, 
/**
 * Jalali year and month.
 */
year: number, month: number, };

export type MoveSession = { session_id: string, on: string, 
/**
 * "HH:MM".
 */
at: string, reason: string, };

export type NewCopy = { title_id: string, registration_number: string, };

export type NewStaff = { username: string, full_name: string, role: Role, password: string, };

export type NewTitle = { title: TitleInput, registration_numbers: Array<string>, };

export type OverdueHandling = "warn" | "block";

export type OverdueRow = { loan_id: string, member_id: string, member_number: string, member_name: string, guardian_phone: string | null, registration_number: string, title: string, due_on_jalali: string, days_overdue: number, 
/**
 * The latest call to this member's family about overdue books.
 */
last_call: ReminderCallView | null, };

export type ParcelBookArgs = { parcel_id: string, registration_number: string, };

export type ParcelBookState = "out" | "received" | "lost";

export type ParcelBookView = { copy_id: string, registration_number: string, title: string, state: ParcelBookState, on_jalali: string | null, };

export type ParcelFilter = { member_id: string | null, open_only: boolean, };

export type ParcelInput = { member_id: string, 
/**
 * As scanned, in the packing slip's order.
 */
registration_numbers: Array<string>, postage_rials: number, tracking_number: string, };

export type ParcelPick = { title_id: string, title: string, copy_id: string, registration_number: string, };

export type ParcelView = { id: string, member_id: string, member_name: string, member_number: string, address: string, dispatched_on: string, dispatched_jalali: string, expected_on: string, expected_jalali: string, postage_rials: number, tracking_number: string, books: Array<ParcelBookView>, 
/**
 * A book is still out.
 */
open: boolean, 
/**
 * Open and past its expected return.
 */
overdue: boolean, };

export type ParticipantInput = { full_name: string, gender: Gender | null, age_group: string | null, guardian_name: string, 
/**
 * The guardian's mobile (any digits).
 */
guardian_phone: string, };

export type ParticipantView = { id: string, full_name: string, gender: Gender | null, age_group: string | null, guardian_name: string, guardian_phone: string, member_id: string | null, 
/**
 * Titles of the workshops they are in or waiting for.
 */
workshops: Array<string>, };

export type PasswordChange = { current_password: string, new_password: string, };

export type PaymentInput = { kind: PaymentKind, method: PaymentMethod, 
/**
 * The card reader's reference number (a card payment needs it).
 */
pos_ref: string | null, amount_rials: number, 
/**
 * Who paid (a member's or a family's name).
 */
payer: string, member_id: string | null, };

export type PaymentKind = "membership_fee" | "tuition" | "installment" | "lost_book";

export type PaymentMethod = "cash" | "card";

export type PhotoUpload = { member_id: string, data_url: string, };

export type Policy = { 
/**
 * Always present; used when no more specific rule matches.
 */
default_rule: LoanRule, 
/**
 * Rules for a kind of center (e.g. the van lends until its next visit).
 */
by_center_kind: { [key in string]: LoanRule }, closed: ClosedDays, };

export type PreviewArgs = { member_id: string, registration_numbers: Array<string>, 
/**
 * On a van visit: the due date shown is the village's next visit.
 */
visit_id?: string, };

export type ReceiptProblem = { 
/**
 * `clash` or `gap`.
 */
code: string, receipt: string, entry_ids: Array<string>, message: string, };

export type ReferralInput = { member_id: string | null, 
/**
 * A visitor's name (ignored for a member).
 */
visitor_name: string, 
/**
 * A visitor's age group (a member's is their own).
 */
age_group: string | null, note: string, };

export type ReferralView = { id: string, day_jalali: string, member_id: string | null, name: string, age_group: string | null, note: string, staff_name: string | null, };

export type RefundArgs = { payment_id: string, amount_rials: number, reason: string, };

export type RegisterArgs = { details: MemberDetails, photo_data_url: string | null, fee: FeeInput, confirm_duplicate_national_id: boolean, legacy_number: string | null, };

export type RegisterOutcome = { "type": "registered", member: MemberView, } | { "type": "duplicate_national_id", existing: Array<MemberSummary>, };

export type ReminderCall = { member_id: string, note: string, };

export type ReminderCallView = { called_on_jalali: string, note: string, };

export type RenewArgs = { member_id: string, fee: FeeInput, };

export type ResolveArgs = { 
/**
 * The sync exception's id.
 */
id: string, 
/**
 * What staff did about it (required).
 */
note: string, };

export type Role = "instructor" | "center_manager" | "provincial_admin";

export type RosterArgs = { workshop_id: string, participant_id: string, };

export type RosterFile = { rows: Array<RosterRow>, errors: Array<RowError>, };

export type RosterLine = { participant_id: string, full_name: string, guardian_phone: string, member_id: string | null, standing: Standing, 
/**
 * «ثبت‌نام شده» / «در انتظار» / «جای خالی پیشنهاد شده» / «انصراف».
 */
standing_name: string, 
/**
 * 1 = first on the waiting list.
 */
queue_position: number | null, exemption_rials: number, exemption_reason: string | null, installments: number, owed_rials: number, paid_rials: number, refunded_rials: number, balance_rials: number, refund_due_rials: number, next_installment_rials: number, attended: number, completed: boolean, };

export type RosterOutcome = { registered: Array<MemberSummary>, errors: Array<RosterRowError>, };

export type RosterRow = { first_name: string, last_name: string, father_name: string, 
/**
 * None: not chosen yet (refused with the row's number).
 */
gender: Gender | null, birth_date: JalaliDate | null, national_id: string | null, guardian_phone: string | null, };

export type RosterRowError = { row: number, message: string, };

export type RoundSummary = { pushed: number, rejected: number, pulled: number, new_exceptions: number, };

export type RouteStop = { village_id: string, village_name: string, day: string, day_jalali: string, 
/**
 * The visit opened for it, if any.
 */
visit_id: string | null, closed: boolean, };

export type RowError = { 
/**
 * The row number as the user sees it (see [`SourceRow::line`]).
 */
line: number, 
/**
 * The header text of the offending column (or «ستون n» when the header
 * is empty); `None` when the problem is the row as a whole.
 */
column: string | null, 
/**
 * The field the column is mapped to, when there is one.
 */
field: Field | null, 
/**
 * The offending value as written (empty when a required value is
 * missing).
 */
value: string, 
/**
 * Persian: what is wrong and what to do.
 */
message: string, };

export type SaveVillage = { 
/**
 * None adds a village.
 */
village_id: string | null, village: VillageInput, };

export type Search = { query: string, limit: number, };

export type SessionInput = { kind: string, title: string, age_group: string, on: string, 
/**
 * "HH:MM" (digits of any script).
 */
at: string, minutes: number, room: string, instructor_id: string, capacity: number, };

export type SessionState = "planned" | "moved" | "cancelled";

export type SessionView = { id: string, kind: string, kind_name: string, title: string, age_group: string, 
/**
 * The planned day and time.
 */
on: string, at: string, 
/**
 * When it takes place (the planned slot, or where it was moved; None
 * when cancelled).
 */
held_on: string | null, held_on_jalali: string | null, held_weekday: string | null, held_at: string | null, minutes: number, room: string, instructor_id: string, instructor_name: string, capacity: number, state: SessionState, 
/**
 * Why it was moved or cancelled.
 */
reason: string | null, 
/**
 * Each card once, voids left out.
 */
attendance: number, };

export type SetHolidays = { from: string, to: string, holidays: Array<Holiday>, };

export type SettingOrigin = { source: Source, 
/**
 * Whether the center may change it (its own value or additions).
 */
center_may_override: boolean, 
/**
 * Whether the center holds its own value of it (ignored while the
 * province does not allow it).
 */
has_override: boolean, };

export type SettingOrigins = { membership_terms: SettingOrigin, 
/**
 * The province's value, shown beside the center's own.
 */
province_membership_terms: MembershipTerms | null, policy: SettingOrigin, province_policy: Policy | null, 
/**
 * Province: the province sets holidays; `center_may_override`: the
 * center may add its own days.
 */
holidays: SettingOrigin, province_holidays: Array<Holiday>, fee_exemptions: SettingOrigin, activity_kinds: SettingOrigin, };

export type SetupArgs = { request: SetupRequest, manager_password: string, };

export type SetupRequest = { center_code: string, center_name: string, center_kind: CenterKind, desk_number: number, manager_username: string, manager_full_name: string, };

export type Severity = "warning" | "refusal";

export type SheetRow = { participant_id: string, full_name: string, 
/**
 * Session numbers marked present.
 */
present: Array<number>, attended: number, completed: boolean, };

export type Slot = { 
/**
 * 0 = Saturday … 5 = Thursday (the Persian week; Friday is closed).
 */
weekday: number, 
/**
 * 0: the plan's first week, 1: its second.
 */
week: number, };

export type Source = "province" | "center" | "shipped";

export type SourceFormat = "csv" | "xlsx";

export type SourceInfo = { 
/**
 * CSV or XLSX.
 */
format: SourceFormat, 
/**
 * For CSV, the text encoding: `"UTF-8"`, `"windows-1256"`, `"UTF-16LE"`
 * or `"UTF-16BE"`. `None` for XLSX.
 */
encoding: string | null, 
/**
 * For CSV, the delimiter found in the header line.
 */
delimiter: string | null, 
/**
 * For XLSX, the name of the sheet read.
 */
sheet: string | null, };

export type Staff = { id: string, center_id: string, username: string, full_name: string, role: Role, active: boolean, };

export type StaffActive = { staff_id: string, active: boolean, };

export type StaffDay = { staff_id: string, day: string, };

export type Standing = "enrolled" | "waiting" | "offered" | "withdrawn";

export type StickExport = { path: string, ops: number, };

export type StickImport = { 
/**
 * Ops in the file.
 */
ops: number, applied: number, 
/**
 * Already here (the stick read before, or the server sent them).
 */
duplicates: number, 
/**
 * Set aside until what they need arrives.
 */
kept: number, 
/**
 * Copy transfers, left for the server's order (the next sync).
 */
later: number, };

export type SyncEnrol = { 
/**
 * e.g. https://sync.kanoon-markazi.ir
 */
server: string, 
/**
 * The one-time code from the provincial administrator.
 */
code: string, };

export type SyncException = { id: string, 
/**
 * copy_lent_twice, loan_not_open, void_target_missing, concurrent_edit,
 * duplicate_national_id, member_number_clash, unknown_member,
 * unknown_copy, clock_far_off, op_rejected, not_applied.
 */
code: string, detail: JsonValue, created_at: string, resolved: boolean, 
/**
 * How staff settled it (on this desk or another of the center).
 */
resolution: ExceptionResolution | null, };

export type SyncStatus = { enrolled: boolean, server: string | null, 
/**
 * Tehran time of the last round that reached the server.
 */
last_success: string | null, 
/**
 * The last round's error, in Persian, while it is the latest outcome.
 */
last_error: string | null, last_report: RoundSummary | null, 
/**
 * Changes recorded here and not yet accepted by the server.
 */
waiting: number, 
/**
 * Sync problems not yet resolved.
 */
open_exceptions: number, 
/**
 * In Persian, while the last push showed this PC's clock ahead of the
 * server's (circulation is refused until it is fixed and synced).
 */
clock_warning: string | null, };

export type TickArgs = { session_id: string, member_id: string, };

export type TitleHit = { id: string, title: string, author: string, publisher: string, age_group: string | null, copies: number, available: number, };

export type TitleInput = { 
/**
 * عنوان
 */
title: string, 
/**
 * نویسنده ("" when not given; so are the other text fields).
 */
author: string, 
/**
 * مترجم
 */
translator: string, 
/**
 * تصویرگر
 */
illustrator: string, 
/**
 * ناشر
 */
publisher: string, 
/**
 * Publication year as written: Jalali (e.g. 1398) or Gregorian (2019).
 */
year: number | null, 
/**
 * Digits and `X` only; "" when not given.
 */
isbn: string, 
/**
 * Code of an age group (see `age_group`), e.g. «ب» or "+7".
 */
age_group: string | null, 
/**
 * موضوع
 */
subjects: string, };

export type TitleSearch = { 
/**
 * All titles matching the query.
 */
total: number, 
/**
 * False when there were too many matches to rank; newest first then.
 */
by_relevance: boolean, hits: Array<TitleHit>, };

export type TitleView = { id: string, details: TitleInput, copies: Array<CopyView>, };

export type TodaySummary = { date_jalali: string, loans: number, returns: number, renewals: number, new_members: number, overdue: number, };

export type TransferArgs = { copy_id: string, to_center_code: string, };

export type TuitionInput = { workshop_id: string, participant_id: string, method: PaymentMethod, pos_ref: string | null, amount_rials: number, };

export type UnmatchedVillage = { name: string, members: number, };

export type VillageInput = { name: string, district: string, eligible: boolean, ineligible_reason: string | null, distance_km: number | null, school: string | null, contact_name: string, contact_phone: string, children: number | null, };

export type VillageLinks = { 
/**
 * Members now tied to a village of the list.
 */
linked: number, 
/**
 * Typed names no village of the list carries, with how many members
 * typed each: add the village (or correct the members), then run again.
 */
unmatched: Array<UnmatchedVillage>, };

export type VillageRetired = { village_id: string, retired: boolean, };

export type VillageSlot = { village_id: string, 
/**
 * None takes the village off the route.
 */
slot: Slot | null, };

export type VillageView = { id: string, name: string, district: string, eligible: boolean, ineligible_reason: string | null, distance_km: number | null, school: string | null, contact_name: string, contact_phone: string, children: number | null, 
/**
 * Its slot on the van's route; None off the route.
 */
slot: Slot | null, retired: boolean, 
/**
 * The next real visit from today on (cancelled and moved visits
 * counted), if it is on the route.
 */
next_visit_on: string | null, next_visit_jalali: string | null, };

export type VisitChangeInput = { village_id: string, 
/**
 * The planned visit's day.
 */
on: string, 
/**
 * The new day; None cancels the visit.
 */
to: string | null, reason: string, };

export type VisitChangeOutcome = { 
/**
 * Where the loans due on the visit are now due (None: no visit left
 * within a year; they keep their date).
 */
new_due_on: string | null, new_due_jalali: string | null, 
/**
 * How many open loans moved.
 */
loans_moved: number, };

export type VisitReport = { children_served: number, new_members: number, loans: number, returns: number, activities: number, notes: string, };

export type VisitView = { id: string, village_id: string, village_name: string, day: string, day_jalali: string, next_visit_on: string | null, next_visit_jalali: string | null, closed: boolean, report: VisitReport, };

export type VoidArgs = { event_id: string, reason: string, };

export type VoidAttendance = { attendance_id: string, reason: string, };

export type VoidReferral = { referral_id: string, reason: string, };

export type WeekProgram = { week_start: string, 
/**
 * "۱۵ آذر ۱۴۰۵ تا ۲۱ آذر ۱۴۰۵".
 */
title_jalali: string, 
/**
 * By the day and time they take place, cancelled ones at their
 * planned slot.
 */
sessions: Array<SessionView>, };

export type WishArgs = { member_id: string, title_id: string, };

export type WishView = { title_id: string, title: string, author: string, wished_on: string, wished_on_jalali: string, 
/**
 * Copies of the title on this center's shelf now.
 */
free_copies: number, };

export type WithdrawArgs = { copy_id: string, reason: WithdrawReason, };

export type WithdrawParticipant = { workshop_id: string, participant_id: string, reason: string, };

export type WithdrawReason = "lost" | "damaged" | "weeded";

export type WorkshopDetail = { summary: WorkshopSummary, 
/**
 * Its details as the form edits them.
 */
input: WorkshopInput, sessions: Array<WorkshopSessionView>, 
/**
 * Enrolled and offered first, then the waiting list in order, then
 * those who withdrew.
 */
roster: Array<RosterLine>, 
/**
 * A freed place no one has been offered yet: the first waiting.
 */
next_offer: string | null, 
/**
 * Tuition taken net of refunds, and the instructor's share of it.
 */
taken_rials: number, instructor_share_rials: number, };

export type WorkshopFilter = { 
/**
 * None or empty: every term.
 */
term: string | null, include_past: boolean, };

export type WorkshopInput = { term: string, title: string, instructor_id: string, 
/**
 * Age groups it takes (empty: any).
 */
age_groups: Array<string>, 
/**
 * Girls or boys only (None: both).
 */
gender: Gender | null, room: string, first_on: string, 
/**
 * 0 = Saturday … 6 = Friday.
 */
weekdays: Array<number>, session_count: number, 
/**
 * "HH:MM" (digits of any script).
 */
at: string, minutes: number, capacity: number, minimum: number, tuition_rials: number, instructor_share_percent: number, 
/**
 * 1: paid in full.
 */
max_installments: number, completion_percent: number, refund_before_percent: number, refund_after_percent: number, };

export type WorkshopSessionView = { 
/**
 * 1 = the first.
 */
no: number, on: string, on_jalali: string, weekday: string, 
/**
 * On or before today.
 */
held: boolean, };

export type WorkshopSummary = { id: string, term: string, title: string, instructor_name: string, age_groups: Array<string>, gender: Gender | null, 
/**
 * «دختران» / «پسران» / «دختر و پسر».
 */
gender_name: string, room: string, 
/**
 * e.g. «شنبه و دوشنبه، ساعت ۱۶:۰۰ (۹۰ دقیقه)».
 */
schedule: string, first_on_jalali: string, last_on_jalali: string, session_count: number, sessions_held: number, capacity: number, minimum: number, enrolled: number, offered: number, waiting: number, places_left: number, 
/**
 * Places held past the capacity (two desks gave the last place).
 */
over_capacity: number, tuition_rials: number, max_installments: number, cancelled: string | null, 
/**
 * Not enough enrolled to run.
 */
below_minimum: boolean, 
/**
 * Its last session is past.
 */
finished: boolean, };

/** Every command: its argument (`args`) and result types. */
export type Commands = {
  app_status: { args: null; result: AppStatus };
  setup_desk: { args: SetupArgs; result: Staff };
  sign_in: { args: Credentials; result: Staff };
  sign_out: { args: null; result: null };
  change_password: { args: PasswordChange; result: null };
  reset_password: { args: Credentials; result: null };
  add_staff: { args: NewStaff; result: Staff };
  staff_list: { args: null; result: Array<Staff> };
  set_staff_active: { args: StaffActive; result: Staff };
  member_by_number: { args: string; result: MemberView };
  member: { args: string; result: MemberView };
  find_members: { args: Search; result: Array<MemberSummary> };
  register_member: { args: RegisterArgs; result: RegisterOutcome };
  renew_membership: { args: RenewArgs; result: MemberView };
  edit_member: { args: EditMemberArgs; result: MemberView };
  set_member_photo: { args: PhotoUpload; result: null };
  member_photo: { args: string; result: string | null };
  member_card: { args: string; result: CardView };
  membership_periods: { args: string; result: Array<MembershipPeriod> };
  member_edits: { args: string; result: Array<MemberEdit> };
  open_loans_of: { args: string; result: Array<LoanView> };
  loan_history: { args: string; result: Array<LoanHistoryRow> };
  preview_check_out: { args: PreviewArgs; result: CheckOutResult };
  check_out: { args: CheckOutRequest; result: CheckOutResult };
  check_in: { args: string; result: CheckInResult };
  renew_loan: { args: string; result: LoanView };
  void_event: { args: VoidArgs; result: null };
  overdue_loans: { args: null; result: Array<OverdueRow> };
  record_reminder_call: { args: ReminderCall; result: null };
  todays_circulation: { args: null; result: TodaySummary };
  activity_kinds: { args: null; result: Array<ActivityKindView> };
  add_activity_kind: { args: string; result: ActivityKindView };
  set_activity_kind_retired: { args: KindRetired; result: null };
  instructors: { args: null; result: Array<Staff> };
  week_program: { args: string; result: WeekProgram };
  activity_session: { args: string; result: SessionView };
  plan_session: { args: SessionInput; result: SessionView };
  edit_session: { args: EditSession; result: SessionView };
  move_session: { args: MoveSession; result: SessionView };
  cancel_session: { args: CancelSession; result: SessionView };
  copy_week: { args: CopyWeek; result: WeekProgram };
  record_attendance: { args: AttendanceArgs; result: AttendanceScan };
  tick_attendance: { args: TickArgs; result: AttendanceScan };
  void_attendance: { args: VoidAttendance; result: null };
  session_attendance: { args: string; result: Array<AttendanceRow> };
  member_activities: { args: string; result: Array<MemberActivity> };
  instructor_month: { args: MonthArgs; result: InstructorMonth };
  language_institute: { args: null; result: LanguageInstitute };
  set_language_institute: { args: LanguageInstitute; result: null };
  record_referral: { args: ReferralInput; result: ReferralView };
  void_referral: { args: VoidReferral; result: null };
  referrals: { args: DayRange; result: Array<ReferralView> };
  workshops: { args: WorkshopFilter; result: Array<WorkshopSummary> };
  workshop_terms: { args: null; result: Array<string> };
  workshop: { args: string; result: WorkshopDetail };
  create_workshop: { args: WorkshopInput; result: WorkshopDetail };
  edit_workshop: { args: EditWorkshop; result: WorkshopDetail };
  cancel_workshop: { args: CancelWorkshop; result: WorkshopDetail };
  family_workshop_list: { args: null; result: FamilyList };
  add_participant: { args: ParticipantInput; result: ParticipantView };
  edit_participant: { args: EditParticipant; result: ParticipantView };
  participant_for_member: { args: string; result: ParticipantView };
  link_participant_to_member: { args: LinkParticipant; result: ParticipantView };
  find_participants: { args: string; result: Array<ParticipantView> };
  enrol: { args: EnrolInput; result: WorkshopDetail };
  offer_place: { args: string; result: WorkshopDetail };
  accept_place: { args: RosterArgs; result: WorkshopDetail };
  withdraw_participant: { args: WithdrawParticipant; result: WorkshopDetail };
  mark_workshop_attendance: { args: MarkWorkshopAttendance; result: AttendanceSheet };
  workshop_attendance: { args: string; result: AttendanceSheet };
  workshop_certificate: { args: RosterArgs; result: Certificate };
  pay_tuition: { args: TuitionInput; result: CashEntryView };
  refund_tuition: { args: RosterArgs; result: Array<CashEntryView> };
  villages: { args: null; result: Array<VillageView> };
  save_village: { args: SaveVillage; result: VillageView };
  set_village_slot: { args: VillageSlot; result: VillageView };
  set_village_retired: { args: VillageRetired; result: VillageView };
  route: { args: DayRange; result: Array<RouteStop> };
  open_visit: { args: string; result: VisitView };
  van_visit: { args: string; result: VisitView };
  close_visit: { args: CloseVisit; result: VisitView };
  change_visit: { args: VisitChangeInput; result: VisitChangeOutcome };
  van_visits: { args: DayRange; result: Array<VisitView> };
  send_parcel: { args: ParcelInput; result: ParcelView };
  receive_parcel_book: { args: ParcelBookArgs; result: ParcelView };
  lose_parcel_book: { args: ParcelBookArgs; result: ParcelView };
  parcels: { args: ParcelFilter; result: Array<ParcelView> };
  parcel: { args: string; result: ParcelView };
  wish_list: { args: string; result: Array<WishView> };
  wish: { args: WishArgs; result: Array<WishView> };
  unwish: { args: WishArgs; result: Array<WishView> };
  fill_parcel: { args: string; result: Array<ParcelPick> };
  register_class: { args: ClassRoster; result: RosterOutcome };
  roster_from_file: { args: ImportFile; result: RosterFile };
  link_members_to_villages: { args: null; result: VillageLinks };
  take_payment: { args: PaymentInput; result: CashEntryView };
  refund_payment: { args: RefundArgs; result: CashEntryView };
  cash_entry: { args: string; result: CashEntryView };
  cash_day: { args: StaffDay; result: CashDay };
  close_cash_day: { args: StaffDay; result: CashDay };
  receipt_problems: { args: null; result: Array<ReceiptProblem> };
  search_titles: { args: Search; result: TitleSearch };
  title: { args: string; result: TitleView };
  add_title: { args: NewTitle; result: TitleView };
  edit_title: { args: EditTitle; result: TitleView };
  add_copy: { args: NewCopy; result: CopyView };
  copy_by_registration_number: { args: string; result: CopyView };
  withdraw_copy: { args: WithdrawArgs; result: CopyView };
  reinstate_copy: { args: string; result: CopyView };
  transfer_copy: { args: TransferArgs; result: CopyView };
  centers: { args: null; result: Array<Center> };
  import_preview: { args: ImportFile; result: ImportPreview };
  import_dry_run: { args: ImportArgs; result: ImportReport };
  import_commit: { args: ImportArgs; result: ImportReport };
  policy: { args: null; result: Policy };
  set_policy: { args: Policy; result: null };
  membership_terms: { args: null; result: MembershipTerms };
  set_membership_terms: { args: MembershipTerms; result: null };
  fee_exemptions: { args: null; result: Array<FeeExemption> };
  age_groups: { args: null; result: Array<AgeGroup> };
  holidays: { args: HolidayRange; result: Array<Holiday> };
  set_holidays: { args: SetHolidays; result: null };
  setting_origins: { args: null; result: SettingOrigins };
  clear_setting_override: { args: string; result: null };
  fee_campaigns: { args: null; result: Array<FeeCampaignView> };
  backup_now: { args: null; result: string | null };
  restore_backup: { args: null; result: string | null };
  export_ops_to_stick: { args: null; result: StickExport | null };
  import_ops_from_stick: { args: null; result: StickImport | null };
  save_draft: { args: Draft; result: null };
  load_draft: { args: string; result: string | null };
  clear_draft: { args: string; result: null };
  sync_status: { args: null; result: SyncStatus };
  sync_problems: { args: null; result: Array<SyncException> };
  resolve_sync_exception: { args: ResolveArgs; result: SyncException };
  test_advance_clock: { args: number; result: null };
  sync_enrol: { args: SyncEnrol; result: SyncStatus };
  sync_now: { args: null; result: SyncStatus };
};
