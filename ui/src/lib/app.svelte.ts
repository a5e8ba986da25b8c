// Window-wide state: which screen, the desk's status, the signed-in staff.
import { call, asApiError, type ApiError } from "./ipc";
import type { AppStatus } from "./bindings";
import { loadReference } from "./reference.svelte";

export type Screen =
  | "home" | "loan" | "returns" | "members" | "register" | "catalog" | "import" | "overdue" | "settings"
  | "sync" | "print-card" | "print-labels" | "activities" | "print-week" | "print-handout"
  | "workshops" | "print-workshops" | "print-certificate" | "cashbook" | "print-receipt"
  | "outreach" | "print-visit" | "print-parcel";

export const app = $state({
  status: null as AppStatus | null,
  screen: "home" as Screen,
  /** What a screen passes to the next (a member id to open, copies to label). */
  param: null as string | null,
  fatal: null as ApiError | null,
});

export async function refreshStatus(): Promise<void> {
  try {
    app.status = await call("app_status", null);
    app.fatal = null;
    // The center's lists, once a session (after set-up and sign-in).
    if (app.status.signed_in) loadReference();
  } catch (e) {
    app.fatal = asApiError(e);
  }
}

/** Work a screen holds that is not saved yet, by what holds it (a form, a
 * list of holidays): leaving the screen asks first. */
const unsaved = new Map<string, string>();

/** Says (message) or unsays (null) that `key` holds unsaved work. */
export function markUnsaved(key: string, message: string | null): void {
  if (message === null) unsaved.delete(key);
  else unsaved.set(key, message);
}

/** A move to another screen waiting for "leave without saving". */
export const leaving = $state({ to: null as { screen: Screen; param: string | null } | null, message: "" });

export function go(screen: Screen, param: string | null = null): void {
  if (unsaved.size > 0 && screen !== app.screen) {
    leaving.to = { screen, param };
    leaving.message = [...unsaved.values()].join(" ");
    return;
  }
  move(screen, param);
}

/** Leaves anyway: what was not saved is dropped. */
export function leaveWithoutSaving(): void {
  const to = leaving.to;
  unsaved.clear();
  leaving.to = null;
  if (to) move(to.screen, to.param);
}

export function stayOnScreen(): void {
  leaving.to = null;
}

function move(screen: Screen, param: string | null): void {
  app.param = param;
  app.screen = screen;
  // The date and the signed-in staff change under us
  // (midnight, another screen's writes): refresh on every move.
  void refreshStatus();
}
