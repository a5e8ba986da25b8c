// "Load, show errors, retry" for calls to the Rust side: what a screen
// reads (`Loader`) and what it asks the desk to do (`Action`). An error is
// kept as the ApiError ({code, message}) the ErrorBox shows in Persian;
// nothing the user typed is touched by a failure.
import { asApiError, type ApiError } from "./ipc";

/** Something the window reads from the desk: the latest result, or why it failed. */
export class Loader<T> {
  /** The last result read; kept while reloading and when a reload fails. */
  data = $state.raw<T | null>(null);
  error = $state.raw<ApiError | null>(null);
  loading = $state(false);
  #fetch: () => Promise<T>;
  #seq = 0;
  #read = false;
  #reading = false;

  constructor(fetch: () => Promise<T>) {
    this.#fetch = fetch;
  }

  /**
   * Reads again (the retry). Only the latest of overlapping reads lands, so
   * an answer for a member no longer shown never replaces the current one.
   * Resolves to what was read, or null when it failed or was overtaken.
   */
  async reload(): Promise<T | null> {
    const mine = ++this.#seq;
    this.loading = true;
    this.#reading = true;
    try {
      const value = await this.#fetch();
      if (mine !== this.#seq) return null;
      this.data = value;
      this.error = null;
      this.#read = true;
      return value;
    } catch (e) {
      if (mine === this.#seq) this.error = asApiError(e);
      return null;
    } finally {
      if (mine === this.#seq) {
        this.loading = false;
        this.#reading = false;
      }
    }
  }

  /** Forgets what was read and drops any read under way (e.g. the search box emptied). */
  clear(): void {
    this.#seq++;
    this.#read = false;
    this.#reading = false;
    this.data = null;
    this.error = null;
    this.loading = false;
  }

  /** Reads once: only when nothing has been read yet and no read is under way (a cache). */
  ensure(): void {
    if (!this.#read && !this.#reading) void this.reload();
  }
}

/** A Loader that starts reading at once. */
export function load<T>(fetch: () => Promise<T>): Loader<T> {
  const l = new Loader(fetch);
  void l.reload();
  return l;
}

/**
 * A Loader that reads at once and again whenever what `key` reads changes
 * (e.g. a record's version after an edit). Call it while a component is set up.
 */
export function loadWith<T>(key: () => unknown, fetch: () => Promise<T>): Loader<T> {
  const l = new Loader(fetch);
  $effect(() => {
    key();
    void l.reload();
  });
  return l;
}

/** Something the user asks the desk to do (save, renew, sign in…). */
export class Action {
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);

  /**
   * Runs `work`, which makes its calls and applies their results itself.
   * Clears the last error first; on a failure keeps it in `error` and
   * resolves to false (the form as typed stays, to correct and send again).
   */
  async run(work: () => Promise<unknown>): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      await work();
      return true;
    } catch (e) {
      this.error = asApiError(e);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Shows a problem found before any call (a check of what was typed). */
  refuse(message: string): void {
    this.error = { code: "invalid_input", message };
  }
}
