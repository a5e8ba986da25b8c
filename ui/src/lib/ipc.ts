// The one gateway to the Rust side. Every command's argument and result
// types come from bindings.ts (generated from the Rust types), so a call
// with the wrong shape does not compile.
import { invoke } from "@tauri-apps/api/core";
import type { ApiError, ApiErrorCode, Commands } from "./bindings";

export type { ApiError, ApiErrorCode };

/** Calls a command; rejects with an `ApiError` ({code, message}). */
export async function call<K extends keyof Commands>(
  name: K,
  args: Commands[K]["args"],
): Promise<Commands[K]["result"]> {
  try {
    return (await invoke(name, { args })) as Commands[K]["result"];
  } catch (e) {
    throw asApiError(e);
  }
}

export function isApiError(e: unknown): e is ApiError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { code?: unknown }).code === "string" &&
    typeof (e as { message?: unknown }).message === "string"
  );
}

/** Anything thrown, as an ApiError the screens can show. */
export function asApiError(e: unknown): ApiError {
  if (isApiError(e)) return e;
  const text = e instanceof Error ? e.message : String(e);
  return { code: "shell", message: `کار انجام نشد: ${text}. دوباره تلاش کنید؛ اگر تکرار شد برنامه را دوباره باز کنید.` };
}
