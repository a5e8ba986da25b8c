// The sync state the status bar shows, polled while the window is open
// (the loop itself runs in the Rust shell whatever the window does).
import { call } from "./ipc";
import type { SyncStatus } from "./bindings";

export const sync = $state({ status: null as SyncStatus | null });

export async function refreshSync(): Promise<void> {
  try {
    sync.status = await call("sync_status", null);
  } catch {
    // Not set up or not signed in yet: nothing to show.
  }
}

let timer: ReturnType<typeof setInterval> | undefined;

export function startSyncPolling(everyMs = 10_000): void {
  if (timer) return;
  void refreshSync();
  timer = setInterval(() => void refreshSync(), everyMs);
}

/** Persian explanations of the exception codes the store records. */
export const PROBLEM_TEXT: Record<string, { what: string; todo: string }> = {
  copy_lent_twice: {
    what: "یک نسخه در دو میز (بدون اتصال) به دو عضو امانت داده شده است.",
    todo: "ببینید کتاب نزد کدام عضو است؛ امانت دیگری را با ذکر دلیل باطل کنید.",
  },
  loan_not_open: {
    what: "بازگشت یا تمدید کتابی رسید که امانت بازی برای آن نیست.",
    todo: "تاریخچه امانت‌های آن نسخه را بررسی کنید؛ اگر بازگشت اشتباه ثبت شده، آن را باطل کنید.",
  },
  concurrent_edit: {
    what: "یک مشخصه در دو میز هم‌زمان به دو مقدار متفاوت تغییر کرده است.",
    todo: "مقدار درست را در پرونده مربوط دوباره ثبت کنید.",
  },
  unknown_member: { what: "رویدادی برای عضوی رسید که در این میز نیست.", todo: "همگام‌سازی را دوباره اجرا کنید؛ اگر ماند، به کارشناس استان خبر دهید." },
  unknown_copy: { what: "رویدادی برای نسخه‌ای رسید که در این میز نیست.", todo: "همگام‌سازی را دوباره اجرا کنید؛ اگر ماند، به کارشناس استان خبر دهید." },
  clock_far_off: {
    what: "ساعت رایانه‌ای که این تغییر را ثبت کرده بسیار جلوتر یا عقب‌تر از ساعت سرور بوده است.",
    todo: "ساعت و تاریخ آن رایانه را درست کنید؛ تاریخ این رویداد را بررسی کنید.",
  },
  not_applied: { what: "سرور یا این میز تغییری را نپذیرفت.", todo: "جزئیات را برای کارشناس استان بفرستید." },
  duplicate_national_id: {
    what: "دو میز (بدون اتصال) یک کد ملی را برای دو عضو ثبت کرده‌اند.",
    todo: "اگر هر دو یک نفرند، پرونده‌ها را یکی کنید و کارت اضافه را پس بگیرید؛ اگر نه، کد ملی اشتباه را اصلاح کنید.",
  },
  member_number_clash: {
    what: "دو رایانه با یک شماره میز، یک شماره عضویت را به دو عضو داده‌اند؛ پرونده عضو دوم در این میز نمایش داده نمی‌شود.",
    todo: "شماره میز یکی از دو رایانه را در تنظیمات عوض کنید و به کارشناس استان خبر دهید تا برای آن عضو کارت تازه صادر شود.",
  },
  void_target_missing: {
    what: "ابطال رکوردی رسید که خود آن رکورد هنوز به این میز نرسیده است.",
    todo: "همگام‌سازی را دوباره اجرا کنید؛ اگر ماند، به کارشناس استان خبر دهید.",
  },
  op_rejected: {
    what: "سرور استان تغییری از این میز را نپذیرفت (مثلاً بسیار بزرگ بود یا به مرکز دیگری مربوط بود)؛ ثبت در این میز مانده است.",
    todo: "جزئیات را برای کارشناس استان بفرستید؛ اگر ثبت اشتباه بوده، آن را در همین میز اصلاح کنید.",
  },
  not_owner: {
    what: "از سرور تغییری رسید که رکورد مرکز دیگری را عوض می‌کرد؛ این میز آن را به کار نبرد.",
    todo: "کاری لازم نیست؛ برای پیگیری، جزئیات را برای کارشناس استان بفرستید.",
  },
  op_unreadable: {
    what: "یکی از تغییرهای رسیده از سرور خوانا نبود و کنار گذاشته شد؛ بقیه به کار رفت.",
    todo: "جزئیات را برای کارشناس استان بفرستید.",
  },
};
