//! Every command the window may call. Each is a one-line call into
//! `kanoon-store` (or the shell's auth); the `commands!` table below is the
//! single list from which the Tauri handler and the TypeScript signatures
//! (`ui/src/lib/bindings.ts`) are both made, so they cannot drift.

use base64::Engine as _;
use chrono::NaiveDate;
use kanoon_domain::age_group::AgeGroup;
use kanoon_domain::entities::{Center, Permission, Role, Staff, WithdrawReason};
use kanoon_domain::jalali::JalaliDate;
use kanoon_domain::policy::Policy;
use kanoon_import::{ColumnMapping, ImportKind};
use kanoon_store::SetupRequest;
use kanoon_store::activities::{
    ActivityKindView, AttendanceRow, AttendanceScan, InstructorMonth, MemberActivity, SessionInput, SessionView,
    WeekProgram,
};
use kanoon_store::cashbook::{CashDay, CashEntryView, PaymentInput, ReceiptProblem, TuitionInput};
use kanoon_store::catalog::{CopyView, TitleInput, TitleSearch, TitleView};
use kanoon_store::circulation::{
    CheckInResult, CheckOutRequest, CheckOutResult, LoanHistoryRow, LoanView, OverdueRow, TodaySummary,
};
use kanoon_store::import::{ImportPreview, ImportReport};
use kanoon_store::members::{
    ClassRoster, FeeInput, MemberDetails, MemberEdit, MemberSummary, MemberView, MembershipPeriod, Photo,
    RegisterMember, RegisterOutcome, RosterFile, RosterOutcome, VillageLinks,
};
use kanoon_store::outreach::{
    ParcelInput, ParcelPick, ParcelView, RouteStop, Slot, VillageInput, VillageView, VisitChangeInput,
    VisitChangeOutcome, VisitView, WishView,
};
use kanoon_store::referrals::{ReferralInput, ReferralView};
use kanoon_store::settings::{
    FeeCampaignView, FeeExemption, Holiday, LanguageInstitute, MembershipTerms, SettingOrigins,
};
use kanoon_store::sync::StickImport;
use kanoon_store::workshops::{
    AttendanceSheet, Certificate, EnrolInput, FamilyList, ParticipantInput, ParticipantView, WorkshopDetail,
    WorkshopInput, WorkshopSummary,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::error::{ApiError, ApiErrorCode, ApiResult};
use crate::state::{AppState, Pick};
use crate::sync::{SyncStatus, sync_error};
use kanoon_store::sync::SyncException;

// ---------------------------------------------------------------- DTOs of the shell

#[derive(Clone, Debug, Deserialize, TS)]
pub struct WorkshopFilter {
    /// None or empty: every term.
    pub term: Option<String>,
    pub include_past: bool,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct EditWorkshop {
    pub workshop_id: Uuid,
    pub workshop: WorkshopInput,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct CancelWorkshop {
    pub workshop_id: Uuid,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct EditParticipant {
    pub participant_id: Uuid,
    pub participant: ParticipantInput,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct LinkParticipant {
    pub participant_id: Uuid,
    pub member_id: Uuid,
}

/// A participant of a workshop.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct RosterArgs {
    pub workshop_id: Uuid,
    pub participant_id: Uuid,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct WithdrawParticipant {
    pub workshop_id: Uuid,
    pub participant_id: Uuid,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct MarkWorkshopAttendance {
    pub workshop_id: Uuid,
    /// 1 = the first session.
    pub session: u16,
    pub participant_id: Uuid,
    pub present: bool,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct VoidReferral {
    pub referral_id: Uuid,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct RefundArgs {
    pub payment_id: Uuid,
    pub amount_rials: i64,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct StaffDay {
    pub staff_id: Uuid,
    pub day: NaiveDate,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct KindRetired {
    pub kind_id: Uuid,
    pub retired: bool,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct EditSession {
    pub session_id: Uuid,
    pub session: SessionInput,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct MoveSession {
    pub session_id: Uuid,
    pub on: NaiveDate,
    /// "HH:MM".
    pub at: String,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct CancelSession {
    pub session_id: Uuid,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct CopyWeek {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct AttendanceArgs {
    pub session_id: Uuid,
    /// As scanned or typed.
    pub card: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct TickArgs {
    pub session_id: Uuid,
    pub member_id: Uuid,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct VoidAttendance {
    pub attendance_id: Uuid,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct MonthArgs {
    pub instructor_id: Uuid,
    /// Jalali year and month.
    pub year: i32,
    pub month: u8,
}

/// What the window needs to decide which screen to show.
#[derive(Clone, Debug, Serialize, TS)]
pub struct AppStatus {
    pub set_up: bool,
    pub center: Option<Center>,
    pub desk_number: Option<u8>,
    pub signed_in: Option<Staff>,
    pub today: NaiveDate,
    pub today_jalali: String,
    /// Where the center's database file is: for a manager only (it is
    /// shown in the backup section, not to everyone in the footer).
    pub database: Option<String>,
    pub test_clock: bool,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct SetupArgs {
    pub request: SetupRequest,
    pub manager_password: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// The signed-in staff member's own password change.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct NewStaff {
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub password: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct Search {
    pub query: String,
    pub limit: u32,
}

/// A photo as a `data:` URL (the window crops and resizes it first).
#[derive(Clone, Debug, Deserialize, TS)]
pub struct PhotoUpload {
    pub member_id: Uuid,
    pub data_url: String,
}

/// Registration as the form sends it: the photo as a `data:` URL.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct RegisterArgs {
    pub details: MemberDetails,
    pub photo_data_url: Option<String>,
    pub fee: FeeInput,
    pub confirm_duplicate_national_id: bool,
    pub legacy_number: Option<String>,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct RenewArgs {
    pub member_id: Uuid,
    pub fee: FeeInput,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct EditMemberArgs {
    pub member_id: Uuid,
    pub details: MemberDetails,
}

/// The printed membership card, photo as a `data:` URL.
#[derive(Clone, Debug, Serialize, TS)]
pub struct CardView {
    pub member_number: String,
    pub full_name: String,
    pub father_name: String,
    pub center_name: String,
    pub expires_jalali: Option<String>,
    pub photo_data_url: Option<String>,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct PreviewArgs {
    pub member_id: Uuid,
    pub registration_numbers: Vec<String>,
    /// On a van visit: the due date shown is the village's next visit.
    #[serde(default)]
    #[ts(optional)]
    pub visit_id: Option<Uuid>,
}

/// An ops file written to a USB stick.
#[derive(Clone, Debug, Serialize, TS)]
pub struct StickExport {
    pub path: String,
    pub ops: usize,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct SaveVillage {
    /// None adds a village.
    pub village_id: Option<Uuid>,
    pub village: VillageInput,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct VillageSlot {
    pub village_id: Uuid,
    /// None takes the village off the route.
    pub slot: Option<Slot>,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct VillageRetired {
    pub village_id: Uuid,
    pub retired: bool,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct CloseVisit {
    pub visit_id: Uuid,
    pub notes: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct WishArgs {
    pub member_id: Uuid,
    pub title_id: Uuid,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct ParcelBookArgs {
    pub parcel_id: Uuid,
    pub registration_number: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct ParcelFilter {
    pub member_id: Option<Uuid>,
    pub open_only: bool,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct VoidArgs {
    pub event_id: Uuid,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct ResolveArgs {
    /// The sync exception's id.
    pub id: Uuid,
    /// What staff did about it (required).
    pub note: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct NewTitle {
    pub title: TitleInput,
    pub registration_numbers: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct ReminderCall {
    pub member_id: Uuid,
    pub note: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct EditTitle {
    pub title_id: Uuid,
    pub title: TitleInput,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct StaffActive {
    pub staff_id: Uuid,
    pub active: bool,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct NewCopy {
    pub title_id: Uuid,
    pub registration_number: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct WithdrawArgs {
    pub copy_id: Uuid,
    pub reason: WithdrawReason,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct TransferArgs {
    pub copy_id: Uuid,
    pub to_center_code: String,
}

/// A file chosen in the window, read by the window (base64), so the shell
/// needs no file-system permission for imports.
#[derive(Clone, Debug, Deserialize, TS)]
pub struct ImportFile {
    pub file_base64: String,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct ImportArgs {
    pub kind: ImportKind,
    pub file_base64: String,
    pub mapping: ColumnMapping,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct HolidayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct SetHolidays {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub holidays: Vec<Holiday>,
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct Draft {
    pub form: String,
    pub body: String,
}

#[derive(Clone, Debug, Serialize, TS)]
pub struct JalaliToday {
    pub date: JalaliDate,
    pub text: String,
}

// ---------------------------------------------------------------- helpers

fn decode_base64(text: &str) -> ApiResult<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| ApiError::invalid("پرونده خوانده نشد (داده خراب است)؛ پرونده را دوباره انتخاب کنید."))
}

fn photo_from_data_url(url: &str) -> ApiResult<Photo> {
    let bad = || ApiError::invalid("عکس خوانده نشد؛ یک پرونده JPEG یا PNG انتخاب کنید.");
    let rest = url.strip_prefix("data:").ok_or_else(bad)?;
    let (mime, data) = rest.split_once(";base64,").ok_or_else(bad)?;
    if !matches!(mime, "image/jpeg" | "image/png" | "image/webp") {
        return Err(bad());
    }
    Ok(Photo { mime: mime.to_owned(), bytes: decode_base64(data)? })
}

fn photo_to_data_url(photo: &Photo) -> String {
    format!("data:{};base64,{}", photo.mime, base64::engine::general_purpose::STANDARD.encode(&photo.bytes))
}

fn status(state: &AppState) -> ApiResult<AppStatus> {
    let desk = state.desk();
    let id = desk.identity();
    let today = desk.today();
    Ok(AppStatus {
        set_up: id.is_some(),
        center: id.map(|i| i.center.clone()),
        desk_number: id.map(|i| i.desk_number),
        signed_in: desk.signed_in().cloned(),
        today,
        today_jalali: JalaliDate::from_gregorian(today).to_string(),
        database: desk
            .signed_in()
            .filter(|s| s.role.allows(Permission::Backup))
            .map(|_| state.db_path().display().to_string()),
        test_clock: std::env::var(crate::state::TEST_CLOCK_ENV).is_ok_and(|v| v == "1"),
    })
}

/// How many backups rotation keeps in a folder.
const BACKUPS_KEPT: usize = 30;

fn limit(n: u32) -> usize {
    n.clamp(1, 500) as usize
}

// ---------------------------------------------------------------- the table

macro_rules! commands {
    (
        $( $(#[$doc:meta])* $name:ident ( $args:ty ) -> $ret:ty = $body:expr ; )*
        // Commands that wait on the network: `async fn`s defined below.
        @async { $( $aname:ident ( $aargs:ty ) -> $aret:ty ; )* }
    ) => {
        $(
            $(#[$doc])*
            #[tauri::command(async)]
            pub fn $name(state: tauri::State<'_, AppState>, args: $args) -> ApiResult<$ret> {
                let run: fn(&AppState, $args) -> ApiResult<$ret> = $body;
                run(&state, args)
            }
        )*

        $(
            /// (async: waits on the network)
            #[tauri::command]
            pub async fn $aname(state: tauri::State<'_, AppState>, args: $aargs) -> ApiResult<$aret> {
                run_async::$aname(&state, args).await
            }
        )*

        /// The name of every command in the table.
        pub const COMMANDS: &[&str] = &[$(stringify!($name),)* $(stringify!($aname),)*];

        /// Runs the command `name` with JSON arguments, as the window would
        /// (tests: the table-driven checks over every command).
        #[cfg(test)]
        pub fn call(state: &AppState, name: &str, args: serde_json::Value) -> ApiResult<serde_json::Value> {
            let bad = |e: serde_json::Error| ApiError::invalid(format!("{name}: {e}"));
            match name {
                $(stringify!($name) => {
                    let args: $args = serde_json::from_value(args).map_err(bad)?;
                    let run: fn(&AppState, $args) -> ApiResult<$ret> = $body;
                    serde_json::to_value(run(state, args)?).map_err(bad)
                })*
                $(stringify!($aname) => {
                    let args: $aargs = serde_json::from_value(args).map_err(bad)?;
                    let out = tauri::async_runtime::block_on(run_async::$aname(state, args))?;
                    serde_json::to_value(out).map_err(bad)
                })*
                other => Err(ApiError::invalid(format!("no command {other}"))),
            }
        }

        /// The invoke handler of every command in the table.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name,)* $($aname),*]
        }

        /// (name, argument type, result type) of every command, as TypeScript.
        pub fn signatures(cfg: &ts_rs::Config) -> Vec<(&'static str, String, String)> {
            vec![
                $((stringify!($name), <$args as TS>::name(cfg), <$ret as TS>::name(cfg)),)*
                $((stringify!($aname), <$aargs as TS>::name(cfg), <$aret as TS>::name(cfg)),)*
            ]
        }

        /// Visits every type the commands exchange (for the declarations).
        pub fn visit_types(v: &mut impl ts_rs::TypeVisitor) {
            $( v.visit::<$args>(); v.visit::<$ret>(); )*
            $( v.visit::<$aargs>(); v.visit::<$aret>(); )*
            v.visit::<ApiError>();
        }
    };
}

commands! {
    // --- session
    app_status(()) -> AppStatus = |s, ()| status(s);
    /// First run: the center, this desk and the first manager with their
    /// password (one transaction; the manager is signed in).
    setup_desk(SetupArgs) -> Staff = |s, a| Ok(s.desk().setup(a.request, &a.manager_password)?);
    sign_in(Credentials) -> Staff = |s, a| Ok(s.desk().sign_in(&a.username, &a.password)?);
    sign_out(()) -> () = |s, ()| {
        let mut desk = s.desk();
        desk.signed()?;
        desk.sign_out();
        Ok(())
    };
    /// The signed-in staff member's own password (the current one is asked for).
    change_password(PasswordChange) -> () =
        |s, a| Ok(s.desk().change_password(&a.current_password, &a.new_password)?);
    /// A manager sets another staff member's password.
    reset_password(Credentials) -> () = |s, a| Ok(s.desk().reset_password(&a.username, &a.password)?);
    add_staff(NewStaff) -> Staff =
        |s, a| Ok(s.desk().add_staff_with_password(&a.username, &a.full_name, a.role, &a.password)?);
    /// The center's staff accounts (manager only).
    staff_list(()) -> Vec<Staff> = |s, ()| Ok(s.desk().staff_list()?);
    /// Deactivates or reactivates an account (manager only; not one's own).
    set_staff_active(StaffActive) -> Staff = |s, a| Ok(s.desk().set_staff_active(a.staff_id, a.active)?);

    // --- members
    member_by_number(String) -> MemberView = |s, n| Ok(s.desk().member_by_number(&n)?);
    member(Uuid) -> MemberView = |s, id| Ok(s.desk().member(id)?);
    find_members(Search) -> Vec<MemberSummary> = |s, a| Ok(s.desk().find_members(&a.query, limit(a.limit))?);
    register_member(RegisterArgs) -> RegisterOutcome = |s, a| {
        let photo = a.photo_data_url.as_deref().map(photo_from_data_url).transpose()?;
        Ok(s.desk().register_member(RegisterMember {
            photo,
            confirm_duplicate_national_id: a.confirm_duplicate_national_id,
            legacy_number: a.legacy_number,
            ..RegisterMember::new(a.details, a.fee)
        })?)
    };
    renew_membership(RenewArgs) -> MemberView = |s, a| Ok(s.desk().renew_membership(a.member_id, a.fee)?);
    edit_member(EditMemberArgs) -> MemberView = |s, a| Ok(s.desk().edit_member(a.member_id, a.details)?);
    set_member_photo(PhotoUpload) -> () = |s, a| {
        let photo = photo_from_data_url(&a.data_url)?;
        Ok(s.desk().set_member_photo(a.member_id, photo)?)
    };
    member_photo(Uuid) -> Option<String> = |s, id| Ok(s.desk().member_photo(id)?.as_ref().map(photo_to_data_url));
    member_card(Uuid) -> CardView = |s, id| {
        let c = s.desk().member_card(id)?;
        Ok(CardView {
            photo_data_url: c.photo.as_ref().map(photo_to_data_url),
            member_number: c.member_number,
            full_name: c.full_name,
            father_name: c.father_name,
            center_name: c.center_name,
            expires_jalali: c.expires_jalali,
        })
    };
    membership_periods(Uuid) -> Vec<MembershipPeriod> = |s, id| Ok(s.desk().membership_periods(id)?);
    member_edits(Uuid) -> Vec<MemberEdit> = |s, id| Ok(s.desk().member_edits(id)?);

    // --- circulation
    open_loans_of(Uuid) -> Vec<LoanView> = |s, id| Ok(s.desk().open_loans_of(id)?);
    loan_history(Uuid) -> Vec<LoanHistoryRow> = |s, id| Ok(s.desk().loan_history(id, 200)?);
    preview_check_out(PreviewArgs) -> CheckOutResult = |s, a| {
        let req = CheckOutRequest { visit_id: a.visit_id, ..CheckOutRequest::new(a.member_id, a.registration_numbers) };
        Ok(s.desk().preview_loan(&req)?)
    };
    check_out(CheckOutRequest) -> CheckOutResult = |s, a| Ok(s.desk().check_out(a)?);
    check_in(String) -> CheckInResult = |s, n| Ok(s.desk().check_in(&n)?);
    renew_loan(Uuid) -> LoanView = |s, id| Ok(s.desk().renew_loan(id)?);
    void_event(VoidArgs) -> () = |s, a| Ok(s.desk().void_event(a.event_id, &a.reason)?);
    overdue_loans(()) -> Vec<OverdueRow> = |s, ()| Ok(s.desk().overdue_loans()?);
    /// A call to a family about overdue books, with what came of it.
    record_reminder_call(ReminderCall) -> () = |s, a| Ok(s.desk().record_reminder_call(a.member_id, &a.note)?);
    todays_circulation(()) -> TodaySummary = |s, ()| Ok(s.desk().todays_circulation()?);

    // --- activities
    activity_kinds(()) -> Vec<ActivityKindView> = |s, ()| Ok(s.desk().activity_kinds()?);
    add_activity_kind(String) -> ActivityKindView = |s, name| Ok(s.desk().add_activity_kind(&name)?);
    set_activity_kind_retired(KindRetired) -> () =
        |s, a| Ok(s.desk().set_activity_kind_retired(a.kind_id, a.retired)?);
    instructors(()) -> Vec<Staff> = |s, ()| Ok(s.desk().instructors()?);
    /// The week (Saturday to Friday) that holds the day.
    week_program(NaiveDate) -> WeekProgram = |s, day| Ok(s.desk().week_program(day)?);
    activity_session(Uuid) -> SessionView = |s, id| Ok(s.desk().session(id)?);
    plan_session(SessionInput) -> SessionView = |s, a| Ok(s.desk().plan_session(a)?);
    edit_session(EditSession) -> SessionView = |s, a| Ok(s.desk().edit_session(a.session_id, a.session)?);
    move_session(MoveSession) -> SessionView =
        |s, a| Ok(s.desk().move_session(a.session_id, a.on, &a.at, &a.reason)?);
    cancel_session(CancelSession) -> SessionView = |s, a| Ok(s.desk().cancel_session(a.session_id, &a.reason)?);
    copy_week(CopyWeek) -> WeekProgram = |s, a| Ok(s.desk().copy_week(a.from, a.to)?);
    record_attendance(AttendanceArgs) -> AttendanceScan =
        |s, a| Ok(s.desk().record_attendance(a.session_id, &a.card)?);
    tick_attendance(TickArgs) -> AttendanceScan = |s, a| Ok(s.desk().tick_attendance(a.session_id, a.member_id)?);
    void_attendance(VoidAttendance) -> () = |s, a| Ok(s.desk().void_attendance(a.attendance_id, &a.reason)?);
    session_attendance(Uuid) -> Vec<AttendanceRow> = |s, id| Ok(s.desk().session_attendance(id)?);
    member_activities(Uuid) -> Vec<MemberActivity> = |s, id| Ok(s.desk().member_activities(id)?);
    instructor_month(MonthArgs) -> InstructorMonth =
        |s, a| Ok(s.desk().instructor_month(a.instructor_id, a.year, a.month)?);

    // --- the language institute (service E)
    language_institute(()) -> LanguageInstitute = |s, ()| Ok(s.desk().language_institute()?);
    set_language_institute(LanguageInstitute) -> () = |s, a| Ok(s.desk().set_language_institute(a)?);
    record_referral(ReferralInput) -> ReferralView = |s, a| Ok(s.desk().record_referral(a)?);
    void_referral(VoidReferral) -> () = |s, a| Ok(s.desk().void_referral(a.referral_id, &a.reason)?);
    referrals(DayRange) -> Vec<ReferralView> = |s, a| Ok(s.desk().referrals(a.from, a.to)?);

    // --- workshops (service D)
    workshops(WorkshopFilter) -> Vec<WorkshopSummary> =
        |s, a| Ok(s.desk().workshops(a.term.as_deref(), a.include_past)?);
    workshop_terms(()) -> Vec<String> = |s, ()| Ok(s.desk().workshop_terms()?);
    workshop(Uuid) -> WorkshopDetail = |s, id| Ok(s.desk().workshop(id)?);
    create_workshop(WorkshopInput) -> WorkshopDetail = |s, a| Ok(s.desk().create_workshop(a)?);
    edit_workshop(EditWorkshop) -> WorkshopDetail = |s, a| Ok(s.desk().edit_workshop(a.workshop_id, a.workshop)?);
    /// Cancels a workshop: every family is owed back all it paid.
    cancel_workshop(CancelWorkshop) -> WorkshopDetail =
        |s, a| Ok(s.desk().cancel_workshop(a.workshop_id, &a.reason)?);
    /// The printable list of workshops a family may still join.
    family_workshop_list(()) -> FamilyList = |s, ()| Ok(s.desk().family_workshop_list()?);
    add_participant(ParticipantInput) -> ParticipantView = |s, a| Ok(s.desk().add_participant(a)?);
    edit_participant(EditParticipant) -> ParticipantView =
        |s, a| Ok(s.desk().edit_participant(a.participant_id, a.participant)?);
    participant_for_member(Uuid) -> ParticipantView = |s, id| Ok(s.desk().participant_for_member(id)?);
    link_participant_to_member(LinkParticipant) -> ParticipantView =
        |s, a| Ok(s.desk().link_participant_to_member(a.participant_id, a.member_id)?);
    find_participants(String) -> Vec<ParticipantView> = |s, q| Ok(s.desk().find_participants(&q)?);
    enrol(EnrolInput) -> WorkshopDetail = |s, a| Ok(s.desk().enrol(a)?);
    /// Offers a freed place to the first waiting.
    offer_place(Uuid) -> WorkshopDetail = |s, id| Ok(s.desk().offer_place(id)?);
    accept_place(RosterArgs) -> WorkshopDetail = |s, a| Ok(s.desk().accept_place(a.workshop_id, a.participant_id)?);
    withdraw_participant(WithdrawParticipant) -> WorkshopDetail =
        |s, a| Ok(s.desk().withdraw(a.workshop_id, a.participant_id, &a.reason)?);
    mark_workshop_attendance(MarkWorkshopAttendance) -> AttendanceSheet = |s, a| {
        Ok(s.desk().mark_workshop_attendance(a.workshop_id, a.session, a.participant_id, a.present)?)
    };
    workshop_attendance(Uuid) -> AttendanceSheet = |s, id| Ok(s.desk().workshop_attendance(id)?);
    workshop_certificate(RosterArgs) -> Certificate =
        |s, a| Ok(s.desk().workshop_certificate(a.workshop_id, a.participant_id)?);
    pay_tuition(TuitionInput) -> CashEntryView = |s, a| Ok(s.desk().pay_tuition(a)?);
    /// Gives back what a participant who withdrew, or whose workshop was cancelled, is owed.
    refund_tuition(RosterArgs) -> Vec<CashEntryView> =
        |s, a| Ok(s.desk().refund_tuition(a.workshop_id, a.participant_id)?);

    // --- the van and the post (services)
    villages(()) -> Vec<VillageView> = |s, ()| Ok(s.desk().villages()?);
    save_village(SaveVillage) -> VillageView = |s, a| Ok(s.desk().save_village(a.village_id, a.village)?);
    set_village_slot(VillageSlot) -> VillageView = |s, a| Ok(s.desk().set_village_slot(a.village_id, a.slot)?);
    set_village_retired(VillageRetired) -> VillageView =
        |s, a| Ok(s.desk().set_village_retired(a.village_id, a.retired)?);
    /// The van's planned and opened visits of the days (two months at most).
    route(DayRange) -> Vec<RouteStop> = |s, a| Ok(s.desk().route(a.from, a.to)?);
    open_visit(Uuid) -> VisitView = |s, id| Ok(s.desk().open_visit(id)?);
    van_visit(Uuid) -> VisitView = |s, id| Ok(s.desk().visit(id)?);
    close_visit(CloseVisit) -> VisitView = |s, a| Ok(s.desk().close_visit(a.visit_id, &a.notes)?);
    /// Cancels or moves a planned visit; the loans due on it move with it.
    change_visit(VisitChangeInput) -> VisitChangeOutcome = |s, a| Ok(s.desk().change_visit(a)?);
    van_visits(DayRange) -> Vec<VisitView> = |s, a| Ok(s.desk().visits_between(a.from, a.to)?);
    send_parcel(ParcelInput) -> ParcelView = |s, a| Ok(s.desk().send_parcel(a)?);
    receive_parcel_book(ParcelBookArgs) -> ParcelView =
        |s, a| Ok(s.desk().receive_parcel_book(a.parcel_id, &a.registration_number)?);
    lose_parcel_book(ParcelBookArgs) -> ParcelView =
        |s, a| Ok(s.desk().lose_parcel_book(a.parcel_id, &a.registration_number)?);
    parcels(ParcelFilter) -> Vec<ParcelView> = |s, a| Ok(s.desk().parcels(a.member_id, a.open_only)?);
    parcel(Uuid) -> ParcelView = |s, id| Ok(s.desk().parcel(id)?);
    /// A member's open wishes, first wished first.
    wish_list(Uuid) -> Vec<WishView> = |s, id| Ok(s.desk().wish_list(id)?);
    wish(WishArgs) -> Vec<WishView> = |s, a| Ok(s.desk().wish(a.member_id, a.title_id)?);
    unwish(WishArgs) -> Vec<WishView> = |s, a| Ok(s.desk().unwish(a.member_id, a.title_id)?);
    /// The next parcel's books from the member's wish list (nothing written).
    fill_parcel(Uuid) -> Vec<ParcelPick> = |s, id| Ok(s.desk().fill_parcel(id)?);
    /// A village school's class, all registered or none (every bad row named).
    register_class(ClassRoster) -> RosterOutcome = |s, a| Ok(s.desk().register_class(a)?);
    /// A class list file read into the roster grid (nothing written).
    roster_from_file(ImportFile) -> RosterFile = |s, a| Ok(s.desk().roster_from_file(&decode_base64(&a.file_base64)?)?);
    /// Members whose village was typed by hand tied to the village list.
    link_members_to_villages(()) -> VillageLinks = |s, ()| Ok(s.desk().link_members_to_villages()?);

    // --- the cash book
    take_payment(PaymentInput) -> CashEntryView = |s, a| Ok(s.desk().take_payment(a)?);
    refund_payment(RefundArgs) -> CashEntryView =
        |s, a| Ok(s.desk().refund_payment(a.payment_id, a.amount_rials, &a.reason)?);
    cash_entry(Uuid) -> CashEntryView = |s, id| Ok(s.desk().cash_entry(id)?);
    cash_day(StaffDay) -> CashDay = |s, a| Ok(s.desk().cash_day(a.staff_id, a.day)?);
    /// A manager confirms a staff member's day as closed.
    close_cash_day(StaffDay) -> CashDay = |s, a| Ok(s.desk().close_cash_day(a.staff_id, a.day)?);
    receipt_problems(()) -> Vec<ReceiptProblem> = |s, ()| Ok(s.desk().receipt_problems()?);

    // --- catalog
    search_titles(Search) -> TitleSearch = |s, a| Ok(s.desk().search_titles(&a.query, limit(a.limit))?);
    title(Uuid) -> TitleView = |s, id| Ok(s.desk().title(id)?);
    add_title(NewTitle) -> TitleView =
        |s, a| Ok(s.desk().add_title_with_copies(a.title, &a.registration_numbers)?);
    edit_title(EditTitle) -> TitleView = |s, a| Ok(s.desk().edit_title(a.title_id, a.title)?);
    add_copy(NewCopy) -> CopyView = |s, a| Ok(s.desk().add_copy(a.title_id, &a.registration_number)?);
    copy_by_registration_number(String) -> CopyView = |s, n| Ok(s.desk().copy_by_registration_number(&n)?);
    withdraw_copy(WithdrawArgs) -> CopyView = |s, a| Ok(s.desk().withdraw_copy(a.copy_id, a.reason)?);
    reinstate_copy(Uuid) -> CopyView = |s, id| Ok(s.desk().reinstate_copy(id)?);
    transfer_copy(TransferArgs) -> CopyView = |s, a| Ok(s.desk().transfer_copy(a.copy_id, &a.to_center_code)?);
    centers(()) -> Vec<Center> = |s, ()| Ok(s.desk().centers()?);

    // --- migration import
    import_preview(ImportFile) -> ImportPreview = |s, a| Ok(s.desk().import_preview(&decode_base64(&a.file_base64)?)?);
    import_dry_run(ImportArgs) -> ImportReport =
        |s, a| Ok(s.desk().import_dry_run(a.kind, &decode_base64(&a.file_base64)?, &a.mapping)?);
    import_commit(ImportArgs) -> ImportReport =
        |s, a| Ok(s.desk().import_commit(a.kind, &decode_base64(&a.file_base64)?, &a.mapping)?);

    // --- settings
    policy(()) -> Policy = |s, ()| Ok(s.desk().policy()?);
    set_policy(Policy) -> () = |s, p| Ok(s.desk().set_policy(p)?);
    membership_terms(()) -> MembershipTerms = |s, ()| Ok(s.desk().membership_terms()?);
    set_membership_terms(MembershipTerms) -> () = |s, t| Ok(s.desk().set_membership_terms(t)?);
    fee_exemptions(()) -> Vec<FeeExemption> = |s, ()| Ok(s.desk().fee_exemptions()?);
    age_groups(()) -> Vec<AgeGroup> = |s, ()| Ok(s.desk().age_groups()?);
    holidays(HolidayRange) -> Vec<Holiday> = |s, r| Ok(s.desk().holidays(r.from, r.to)?);
    set_holidays(SetHolidays) -> () = |s, h| Ok(s.desk().set_holidays(h.from, h.to, h.holidays)?);
    /// Which value applies to each setting and where it came from (province, center, program).
    setting_origins(()) -> SettingOrigins = |s, ()| Ok(s.desk().setting_origins()?);
    /// Takes back the center's own value of `membership_terms` or `policy`.
    clear_setting_override(String) -> () = |s, key| Ok(s.desk().clear_setting_override(&key)?);
    fee_campaigns(()) -> Vec<FeeCampaignView> = |s, ()| Ok(s.desk().fee_campaigns()?);
    /// Backs up into a folder the manager picks in the system dialog
    /// (None: the dialog was closed).
    backup_now(()) -> Option<String> = |s, ()| {
        s.desk().require(Permission::Backup)?;
        let Some(folder) = s.pick(Pick::BackupFolder) else { return Ok(None) };
        Ok(Some(s.desk().backup_to(&folder, BACKUPS_KEPT)?.display().to_string()))
    };
    /// Restores from a backup file the manager picks in the system dialog
    /// (None: the dialog was closed); returns where the replaced content was kept.
    restore_backup(()) -> Option<String> = |s, ()| {
        s.desk().require(Permission::Restore)?;
        let Some(file) = s.pick(Pick::BackupFile) else { return Ok(None) };
        Ok(Some(s.desk().restore_from(&file)?.display().to_string()))
    };

    // --- ops carried on a USB stick (a van whose base has no internet)
    /// Writes this desk's unpushed ops into a folder picked in the system
    /// dialog (None: the dialog was closed).
    export_ops_to_stick(()) -> Option<StickExport> = |s, ()| {
        s.desk().require(Permission::LoanDesk)?;
        let Some(folder) = s.pick(Pick::StickFolder) else { return Ok(None) };
        let (bytes, ops) = s.desk().export_ops()?;
        let desk_number = s.desk().identity().map(|i| i.desk_number).unwrap_or_default();
        let name = format!("kanoon-desk{desk_number}-{}.kanoon-ops", s.desk().now().format("%Y%m%d-%H%M%S"));
        let path = folder.join(name);
        std::fs::write(&path, bytes).map_err(|e| {
            ApiError::new(ApiErrorCode::Shell, format!("نوشتن روی فلش انجام نشد ({e}). فلش را دوباره وصل کنید و جای خالی آن را ببینید."))
        })?;
        Ok(Some(StickExport { path: path.display().to_string(), ops }))
    };
    /// Reads another desk's ops file picked in the system dialog (None: closed).
    import_ops_from_stick(()) -> Option<StickImport> = |s, ()| {
        s.desk().require(Permission::LoanDesk)?;
        let Some(file) = s.pick(Pick::StickFile) else { return Ok(None) };
        let bytes = std::fs::read(&file).map_err(|e| {
            ApiError::new(ApiErrorCode::Shell, format!("خواندن پرونده از فلش انجام نشد ({e}). فلش را دوباره وصل کنید."))
        })?;
        Ok(Some(s.desk().import_ops(&bytes)?))
    };

    // --- drafts of unsaved forms
    save_draft(Draft) -> () = |s, d| Ok(s.desk().save_draft(&d.form, &d.body)?);
    load_draft(String) -> Option<String> = |s, form| Ok(s.desk().draft(&form)?);
    clear_draft(String) -> () = |s, form| Ok(s.desk().clear_draft(&form)?);

    // --- sync with the provincial server
    sync_status(()) -> SyncStatus = |s, ()| {
        let desk = s.desk();
        desk.signed()?;
        s.sync.status(&desk)
    };
    sync_problems(()) -> Vec<SyncException> = |s, ()| Ok(s.desk().sync_exceptions()?);
    /// Settles a sync exception with a note; every desk of the center sees it resolved.
    resolve_sync_exception(ResolveArgs) -> SyncException = |s, a| Ok(s.desk().resolve_sync_exception(a.id, &a.note)?);

    // --- tests only (refused unless the test clock was switched on at start)
    test_advance_clock(i64) -> () = |s, days| {
        s.desk().signed()?;
        s.advance_test_clock(days)
    };

    @async {
        sync_enrol(SyncEnrol) -> SyncStatus;
        sync_now(()) -> SyncStatus;
    }
}

#[derive(Clone, Debug, Deserialize, TS)]
pub struct SyncEnrol {
    /// e.g. https://sync.kanoon-markazi.ir
    pub server: String,
    /// The one-time code from the provincial administrator.
    pub code: String,
}

/// The bodies of the `@async` commands (the table makes their Tauri
/// commands and test dispatch from these).
mod run_async {
    use super::*;

    /// Enrols this desk with the provincial server and starts syncing
    /// (manager only; plain http:// only to this computer).
    pub async fn sync_enrol(state: &AppState, args: SyncEnrol) -> ApiResult<SyncStatus> {
        let server = state.desk().check_enrolment_server(&args.server)?;
        let client = kanoon_sync::Client::from_env(&server).map_err(sync_error)?;
        let name = {
            let desk = state.desk();
            let id = desk.identity().ok_or_else(|| ApiError::from(kanoon_store::StoreError::NotSetUp))?;
            format!("{} — میز {}", id.center.name, id.desk_number)
        };
        let code = crate::sync_code(&args.code);
        kanoon_sync::enrol(&state.shared_desk(), &client, &server, &code, &name).await.map_err(sync_error)?;
        state.start_sync()?;
        state.sync.status(&state.desk())
    }

    /// One round now (the background loop keeps its own rhythm).
    pub async fn sync_now(state: &AppState, args: ()) -> ApiResult<SyncStatus> {
        let () = args;
        let server = {
            let desk = state.desk();
            desk.signed()?;
            desk.sync_settings()?.map(|s| s.server).ok_or_else(|| sync_error(kanoon_sync::SyncError::NotEnrolled))?
        };
        let client = kanoon_sync::Client::from_env(&server).map_err(sync_error)?;
        let outcome = kanoon_sync::sync_once(&state.shared_desk(), &client).await;
        state.sync.record_now(&outcome.as_ref().map(Clone::clone).map_err(ToString::to_string));
        outcome.map_err(sync_error)?;
        state.sync.status(&state.desk())
    }
}
