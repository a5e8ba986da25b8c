// Member photos: whatever the camera or the file gives, the store gets a
// 3:4 portrait, center-cropped and scaled to 300×400, as a JPEG data URL.

const PHOTO_WIDTH = 300;
const PHOTO_HEIGHT = 400;
const PHOTO_QUALITY = 0.85;

export interface CropRect {
  /** Left edge in the source, in source pixels. */
  sx: number;
  /** Top edge in the source, in source pixels. */
  sy: number;
  sw: number;
  sh: number;
}

/**
 * The largest centered rectangle of the source with the aspect
 * `aspectW:aspectH` (3:4 unless told): a wide picture loses its sides, a tall
 * one its top and bottom, equally. Whole pixels; never outside the source.
 */
export function centerCrop(width: number, height: number, aspectW = 3, aspectH = 4): CropRect {
  if (!(width > 0) || !(height > 0) || !(aspectW > 0) || !(aspectH > 0)) {
    return { sx: 0, sy: 0, sw: 0, sh: 0 };
  }
  const target = aspectW / aspectH;
  if (width / height > target) {
    // Too wide: full height, trim the sides.
    const sw = Math.min(width, Math.max(1, Math.round(height * target)));
    return { sx: Math.floor((width - sw) / 2), sy: 0, sw, sh: height };
  }
  // Too tall (or exact): full width, trim top and bottom.
  const sh = Math.min(height, Math.max(1, Math.round(width / target)));
  return { sx: 0, sy: Math.floor((height - sh) / 2), sw: width, sh };
}

/** Whether a chosen file claims to be a picture (the decoder has the last word). */
export function looksLikeImage(file: { type: string; name: string }): boolean {
  if (file.type.startsWith("image/")) return true;
  return file.type === "" && /\.(jpe?g|png|webp|gif|bmp|heic)$/i.test(file.name);
}

/** Whether this window can ask for a camera at all. */
export function cameraAvailable(): boolean {
  return typeof navigator !== "undefined" && typeof navigator.mediaDevices?.getUserMedia === "function";
}

/** Draws the 3:4 center of a picture on a 300×400 canvas; a JPEG data URL. */
function renderPortrait(source: CanvasImageSource, width: number, height: number): string {
  const crop = centerCrop(width, height);
  if (crop.sw === 0 || crop.sh === 0) throw new Error("empty image");
  const canvas = document.createElement("canvas");
  canvas.width = PHOTO_WIDTH;
  canvas.height = PHOTO_HEIGHT;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2d context");
  // JPEG has no transparency: a transparent PNG gets a white ground, not black.
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, PHOTO_WIDTH, PHOTO_HEIGHT);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(source, crop.sx, crop.sy, crop.sw, crop.sh, 0, 0, PHOTO_WIDTH, PHOTO_HEIGHT);
  return canvas.toDataURL("image/jpeg", PHOTO_QUALITY);
}

/** A chosen picture file as the member photo; rejects with a Persian message. */
export function portraitFromFile(file: File): Promise<string> {
  if (!looksLikeImage(file)) {
    return Promise.reject(new Error("این پرونده عکس نیست؛ یک عکس JPEG یا PNG انتخاب کنید."));
  }
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => {
      try {
        resolve(renderPortrait(img, img.naturalWidth, img.naturalHeight));
      } catch {
        reject(new Error("عکس آماده نشد؛ عکس دیگری انتخاب کنید یا با دوربین عکس بگیرید."));
      } finally {
        URL.revokeObjectURL(url);
      }
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error("این عکس خوانده نشد (شاید خراب است یا قالبش پشتیبانی نمی‌شود)؛ یک عکس JPEG یا PNG انتخاب کنید."));
    };
    img.src = url;
  });
}

/** The current frame of a playing camera as the member photo. */
export function portraitFromVideo(video: HTMLVideoElement): string {
  return renderPortrait(video, video.videoWidth, video.videoHeight);
}

/** A camera error as a Persian sentence saying what to do. */
export function cameraErrorMessage(e: unknown): string {
  const name = typeof e === "object" && e !== null && "name" in e ? String((e as { name: unknown }).name) : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return "اجازه استفاده از دوربین داده نشد؛ در تنظیمات رایانه اجازه دوربین را بدهید یا عکس را از پرونده انتخاب کنید.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "دوربینی پیدا نشد؛ دوربین را وصل کنید یا عکس را از پرونده انتخاب کنید.";
    case "NotReadableError":
    case "AbortError":
      return "دوربین در دسترس نیست (شاید برنامه دیگری از آن استفاده می‌کند)؛ آن برنامه را ببندید یا عکس را از پرونده انتخاب کنید.";
    default:
      return "دوربین روشن نشد؛ دوباره تلاش کنید یا عکس را از پرونده انتخاب کنید.";
  }
}
