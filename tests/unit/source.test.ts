import { afterEach, describe, expect, test } from "bun:test";
import { callOf, lookup, nameOf, partial } from "../../src/executor/registry.ts";
import { constFailed, getConst } from "../../src/executor/context.ts";
import {
  analysisCount,
  configureSources,
  receiveSource,
  SOURCE_PREFIX,
} from "../../src/executor/source.ts";

/** The message `call` throws (a TypeError), or "accepted". */
function refusal(call: () => unknown): string {
  try {
    call();
    return "accepted";
  } catch (e) {
    expect(e).toBeInstanceOf(TypeError);
    return (e as Error).message;
  }
}

afterEach(() => configureSources({ allowed: true, share: () => {} }));

describe("functions sent as their source", () => {
  test("a lambda is named by the hash of its text, shared once, compiled once", () => {
    const shared: string[] = [];
    configureSources({ share: (name, source) => shared.push(`${name} ${source}`) });
    const sq = (x: number) => x * x;
    const name = nameOf(sq);
    expect(name.startsWith(SOURCE_PREFIX)).toBe(true);
    for (let i = 0; i < 1000; i++) expect(callOf(sq, [i])).toEqual([name, [i]]);
    // The same text in another function object is the same source.
    expect(nameOf((x: number) => x * x)).toBe(name);
    expect(shared.length).toBe(1);
    expect(shared[0]).toMatch(/=>\s*x \* x$/);
    const compiled = lookup(name)!;
    expect(compiled).not.toBe(sq); // compiled from the text, as another peer does
    expect(compiled(7)).toBe(49);
    expect(lookup(name)).toBe(compiled);
    expect(lookup(`${SOURCE_PREFIX}nothing-of-the-sort`)).toBeUndefined();
  });

  test("globals are not captures; every kind of local binding is seen as local", () => {
    const fns = [
      (x: number) => Math.cos(x) + JSON.stringify([x]).length + Number.parseFloat("1"),
      ({ a, b: [c] }: { a: number; b: number[] }, d = a) => a + c + d,
      (...xs: number[]) => xs.reduce((s, x) => s + x, 0),
      function fact(n: number): number {
        return n <= 1 ? 1 : n * fact(n - 1); // its own name is in its scope
      },
      function () {
        return [arguments.length, this];
      },
      (x: number) => {
        let total = 0;
        label: for (let i = 0; i < x; i++) {
          if (i > 5) break label;
          total += i;
        }
        try {
          throw new Error("e");
        } catch (err) {
          total += (err as Error).message.length;
        }
        function inner(y: number) {
          return y * 2;
        }
        class Box {
          v = 1;
          get twice() {
            return this.v * 2;
          }
        }
        const { v } = new Box();
        return inner(total) + v + new Box().twice + `${x}`.length + (/a+/.test("aa") ? 1 : 0);
      },
      async (x: number) => await Promise.resolve(x),
      function* (n: number) {
        yield n;
      },
      () => ({ key: 1 }).key + ({ ["computed"]: 2 }).computed,
    ];
    for (const fn of fns) expect(refusal(() => nameOf(fn))).toBe("accepted");
    expect(lookup(nameOf(fns[3]))!(5)).toBe(120);
    expect(lookup(nameOf(fns[5]))!(3)).toBe(8 + 1 + 2 + 1 + 1);
  });

  test("a closure is refused naming each captured variable and the fix", () => {
    let a = 1;
    let b = 2;
    const message = refusal(() => nameOf((x: number) => x * a + b + Math.PI));
    expect(message).toMatch(/^Cannot submit an anonymous function: it closes over "a", "b",/);
    expect(message).toMatch(/pass each as an argument/);
    a = b = 0;
    // Captured only in a nested function, or only in a default value: still a capture.
    expect(refusal(() => nameOf((x: number) => () => x + a))).toMatch(/closes over "a"/);
    expect(refusal(() => nameOf((x = b) => x))).toMatch(/closes over "b"/);
    // The fix works: the variable as an argument.
    expect(callOf(partial((k: number, x: number) => x * k, 3), [2])[1]).toEqual([3, 2]);
  });

  test("an arrow that uses its enclosing this, a method, a class, a bound function", () => {
    const obj = {
      y: 1,
      arrow() {
        return (x: number) => this.y + x;
      },
      method(x: number) {
        return x;
      },
    };
    expect(refusal(() => nameOf(obj.arrow()))).toMatch(/closes over "this"/);
    expect(refusal(() => nameOf(obj.method))).toMatch(/"method": it is a method: write it as/);
    expect(refusal(() => nameOf(class K {}))).toMatch(/"K": it is a class/);
    expect(refusal(() => nameOf(((x: number) => x).bind(null)))).toMatch(/partial\(fn, …\)/);
  });

  test("--no-source: nothing is sent as source, nothing sent as source is compiled", () => {
    const fn = (x: number) => x - 1;
    const name = nameOf(fn);
    configureSources({ allowed: false });
    expect(refusal(() => nameOf((x: number) => x - 2))).toMatch(/started with --no-source/);
    expect(() => lookup(name)).toThrow(/started with --no-source: it runs no task sent as source/);
  });

  test("a bad source from a peer fails the task that names it, and nothing else", () => {
    receiveSource(`${SOURCE_PREFIX}notText`, 42);
    expect(lookup(`${SOURCE_PREFIX}notText`)).toBeUndefined();
    receiveSource(`${SOURCE_PREFIX}notAFunction`, "[1, 2]");
    expect(() => lookup(`${SOURCE_PREFIX}notAFunction`)).toThrow(/is not a function/);
    receiveSource(`${SOURCE_PREFIX}broken`, "(x) => {");
    expect(() => lookup(`${SOURCE_PREFIX}broken`)).toThrow(SyntaxError);
    // A second copy under a known name changes nothing.
    const name = nameOf((x: number) => x * 3);
    receiveSource(name, "(x) => x * 4");
    expect(lookup(name)!(2)).toBe(6);
  });

  test("a name that is a global only by accident is a capture: the allowed globals are listed", () => {
    // deno-lint-ignore prefer-const
    let name = "world"; // a Deno worker has a global `name`: it must not stand in for this one
    // deno-lint-ignore prefer-const
    let toString = () => "mine"; // inherited by globalThis from Object.prototype
    expect(refusal(() => nameOf((x: string) => `${name} ${x}`))).toMatch(/closes over "name"/);
    expect(refusal(() => nameOf(() => toString()))).toMatch(/closes over "toString"/);
    const guarded = () => typeof Deno !== "undefined" ? "deno" : typeof Bun !== "undefined";
    expect(refusal(() => nameOf(guarded))).toBe("accepted");
  });

  test("a closure made afresh for each submit is analysed once", () => {
    const before = analysisCount();
    const names = new Set<string>();
    for (let i = 0; i < 100; i++) names.add(callOf((x: number) => x * 7, [i])[0]);
    expect(names.size).toBe(1);
    expect(analysisCount() - before).toBe(1);
  });

  test("a source runs in strict mode, as the module it came from", () => {
    const fn = function () {
      // @ts-ignore: this is the point
      return this === undefined;
    };
    expect(fn()).toBe(true);
    expect(lookup(nameOf(fn))!()).toBe(true);
  });

  test("an arrow whose class uses its enclosing this in a computed key is refused", () => {
    const obj = {
      k: "key",
      make() {
        return () =>
          class {
            [this.k] = 1;
          };
      },
    };
    expect(refusal(() => nameOf(obj.make()))).toMatch(/closes over "this"/);
  });

  test("a constant this peer cannot read fails whoever waits for it, now or later", async () => {
    const waiting = getConst("unreadable");
    constFailed("unreadable", new Error("no task for a function value"));
    await expect(waiting).rejects.toThrow(/no task for a function value/);
    await expect(getConst("unreadable")).rejects.toThrow(/no task for a function value/);
  });
});
