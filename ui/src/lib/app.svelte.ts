// Window-wide state: which screen, the desk's status, the signed-in staff.
import { call, asApiError, type ApiError } from "./ipc";
import type { AppStatus } from "./bindings";
import { loadReference } from "./reference.svelte";

export type Screen =
  | "home" | "loan" | "returns" | "members" | "register" | "catalog" | "import" | "overdue" | "settings"
  | "sync" | "print-card" | "print-labels";

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

export function go(screen: Screen, param: string | null = null): void {
  app.param = param;
  app.screen = screen;
  // The date and the signed-in staff change under us
  // (midnight, another screen's writes): refresh on every move.
  void refreshStatus();
}
