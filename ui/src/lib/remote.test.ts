import { describe, expect, it } from "vitest";
import { Action, Loader, load } from "./remote.svelte";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const notFound = { code: "not_found", message: "عضوی با این شماره نیست." } as const;

describe("Loader", () => {
  it("keeps the result and clears loading", async () => {
    const l = new Loader(() => Promise.resolve([1, 2]));
    expect(l.data).toBeNull();
    const p = l.reload();
    expect(l.loading).toBe(true);
    expect(await p).toEqual([1, 2]);
    expect(l.data).toEqual([1, 2]);
    expect(l.error).toBeNull();
    expect(l.loading).toBe(false);
  });

  it("shows an ApiError as it came and keeps the last data", async () => {
    let fail = false;
    const l = new Loader(() => (fail ? Promise.reject(notFound) : Promise.resolve("ok")));
    await l.reload();
    fail = true;
    expect(await l.reload()).toBeNull();
    expect(l.error).toEqual(notFound);
    expect(l.data).toBe("ok");
  });

  it("turns anything else thrown into a Persian shell error", async () => {
    const l = new Loader(() => Promise.reject(new Error("boom")));
    await l.reload();
    expect(l.error?.code).toBe("shell");
    expect(l.error?.message).toContain("دوباره تلاش کنید");
  });

  it("retries: a reload after a failure clears the error", async () => {
    let calls = 0;
    const l = new Loader(() => (++calls === 1 ? Promise.reject(notFound) : Promise.resolve(calls)));
    await l.reload();
    expect(l.error).not.toBeNull();
    await l.reload();
    expect(l.error).toBeNull();
    expect(l.data).toBe(2);
  });

  it("lets only the latest of overlapping reads land", async () => {
    const first = deferred<string>();
    const second = deferred<string>();
    const queue = [first, second];
    const l = new Loader(() => queue.shift()!.promise);
    const a = l.reload();
    const b = l.reload();
    second.resolve("new");
    await b;
    first.resolve("old");
    expect(await a).toBeNull();
    expect(l.data).toBe("new");
    expect(l.loading).toBe(false);
  });

  it("ignores the failure of an overtaken read", async () => {
    const first = deferred<string>();
    const queue = [first.promise, Promise.resolve("new")];
    const l = new Loader(() => queue.shift()!);
    const a = l.reload();
    await l.reload();
    first.reject(notFound);
    await a;
    expect(l.error).toBeNull();
    expect(l.data).toBe("new");
  });

  it("load() starts at once", async () => {
    const l = load(() => Promise.resolve(7));
    expect(l.loading).toBe(true);
    await Promise.resolve();
    await Promise.resolve();
    expect(l.data).toBe(7);
  });
});

describe("Action", () => {
  it("is busy while running and true when done", async () => {
    const a = new Action();
    const d = deferred<null>();
    let applied = false;
    const p = a.run(async () => {
      await d.promise;
      applied = true;
    });
    expect(a.busy).toBe(true);
    d.resolve(null);
    expect(await p).toBe(true);
    expect(applied).toBe(true);
    expect(a.busy).toBe(false);
    expect(a.error).toBeNull();
  });

  it("keeps the error, leaves what was typed, and clears it on the next try", async () => {
    const a = new Action();
    const form = { name: "سارا" };
    const ok = await a.run(async () => {
      await Promise.reject(notFound);
      form.name = "";
    });
    expect(ok).toBe(false);
    expect(a.error).toEqual(notFound);
    expect(a.busy).toBe(false);
    expect(form.name).toBe("سارا");
    expect(await a.run(() => Promise.resolve())).toBe(true);
    expect(a.error).toBeNull();
  });

  it("refuse() shows a check's message as invalid input", () => {
    const a = new Action();
    a.refuse("شماره میز باید عددی بین ۱ تا ۹۹ باشد.");
    expect(a.error).toEqual({ code: "invalid_input", message: "شماره میز باید عددی بین ۱ تا ۹۹ باشد." });
  });
});

describe("Loader.ensure", () => {
  it("reads once, and again only after a failure", async () => {
    let calls = 0;
    const l = new Loader(() => (++calls === 1 ? Promise.reject(notFound) : Promise.resolve(calls)));
    l.ensure();
    l.ensure();
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toBe(1);
    expect(l.error).toEqual(notFound);
    l.ensure();
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toBe(2);
    expect(l.data).toBe(2);
    l.ensure();
    expect(calls).toBe(2);
  });
});

describe("Loader.clear", () => {
  it("forgets the result and drops the read under way", async () => {
    const d = deferred<string>();
    const queue = [Promise.resolve("first"), d.promise];
    const l = new Loader(() => queue.shift()!);
    await l.reload();
    const pending = l.reload();
    l.clear();
    expect(l.data).toBeNull();
    expect(l.loading).toBe(false);
    d.resolve("late");
    await pending;
    expect(l.data).toBeNull();
  });
});
