use thiserror::Error;

/// Why a value from a user or a file is not acceptable. Messages are Persian
/// and say what to do (the input quoted in Persian digits, as staff typed
/// or see it); the variant is what callers branch on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("تاریخ «{}» معتبر نیست؛ آن را به شکل ۱۴۰۴/۰۱/۱۵ وارد کنید.", crate::text::to_persian_digits(.0))]
    InvalidDate(String),
    #[error("کد ملی «{}» معتبر نیست؛ ده رقم کد ملی را دوباره از روی کارت بخوانید.", crate::text::to_persian_digits(.0))]
    InvalidNationalId(String),
    #[error("شماره همراه «{}» معتبر نیست؛ یازده رقم و با ۰۹ شروع شود.", crate::text::to_persian_digits(.0))]
    InvalidMobile(String),
    #[error("شماره عضویت «{}» معتبر نیست؛ کارت را دوباره اسکن کنید یا شماره را با دقت وارد کنید.", crate::text::to_persian_digits(.0))]
    InvalidMemberNumber(String),
    #[error("{0}")]
    Invalid(String),
    #[error("صندوق روز {} بسته شده است؛ برای اصلاح، یک برگشت در روز جاری ثبت کنید.", crate::jalali::JalaliDate::from_gregorian(*.0).to_persian_string())]
    DayClosed(chrono::NaiveDate),
    #[error("مبلغ باید بیشتر از صفر ریال باشد.")]
    NotPositive,
    #[error("مبلغ برگشتی ({} ریال) از مبلغ پرداخت‌شدهٔ باقی‌مانده ({} ریال) بیشتر است؛ مبلغ کمتری بنویسید.", crate::text::format_rials(*.0), crate::text::format_rials(*.1))]
    RefundTooLarge(i64, i64),
    /// A copy on loan or in an open parcel, put in a new parcel.
    #[error("این کتاب هم‌اکنون امانت است یا در بستهٔ دیگری است؛ آن را از این بسته بردارید.")]
    CopyOut(uuid::Uuid),
    #[error("این کتاب دو بار در این بسته آمده است؛ یکی را بردارید.")]
    CopyTwiceInParcel(uuid::Uuid),
}
