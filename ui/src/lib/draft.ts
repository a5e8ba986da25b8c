// Unsaved forms are kept in the center database (table `drafts`) a moment
// after each change, so a closed window, a crash or a power cut loses
// nothing; a saved form clears its draft.
import { call } from "./ipc";

export function draftKeeper<T>(form: string, delayMs = 400) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    async load(): Promise<T | null> {
      try {
        const body = await call("load_draft", form);
        return body === null ? null : (JSON.parse(body) as T);
      } catch {
        return null;
      }
    },
    save(value: T): void {
      clearTimeout(timer);
      timer = setTimeout(() => {
        void call("save_draft", { form, body: JSON.stringify(value) }).catch(() => undefined);
      }, delayMs);
    },
    async clear(): Promise<void> {
      clearTimeout(timer);
      await call("clear_draft", form).catch(() => undefined);
    },
  };
}
