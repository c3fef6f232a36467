import { describe, expect, test } from "bun:test";
import {
  callOf,
  internalTask,
  lookup,
  nameOf,
  partial,
  registerModule,
  task,
} from "../../src/executor/registry.ts";

// Closures over a local variable: a function with none travels as its source (source.test.ts).
// A `let`: Bun inlines a module-level `const` of a literal, and the closure would be none.
// deno-lint-ignore prefer-const
let local = 0;

describe("task registry", () => {
  test("task(fn) registers under the function's name and returns it", () => {
    function regA(x: number) {
      return x;
    }
    expect(task(regA)).toBe(regA);
    expect(nameOf(regA)).toBe("regA");
    expect(lookup("regA")).toBe(regA);
  });

  test("task(name, fn) registers under the given name; the same pair twice is fine", () => {
    const f = (x: number) => x;
    task("regB", f);
    task("regB", f);
    expect(nameOf(f)).toBe("regB");
  });

  test("module exports register under their export names", () => {
    const g = () => 1;
    registerModule({ exportedG: g, notAFunction: 3, default: () => 2 });
    expect(nameOf(g)).toBe("exportedG");
    expect(lookup("notAFunction")).toBeUndefined();
    expect(lookup("default")).toBeUndefined();
  });

  test("partials: bind(null, …) of a task and partial(fn, …) call with the bound arguments first", () => {
    const w = task("regWeighted", (a: number, b: number, c: number) => a * 100 + b * 10 + c);
    const byBind = w.bind(null, 1);
    expect(byBind(2, 3)).toBe(123);
    expect(callOf(byBind, [2, 3])).toEqual(["regWeighted", [1, 2, 3]]);
    expect(callOf(partial(byBind, 4), [5])).toEqual(["regWeighted", [1, 4, 5]]);
    expect(callOf(partial(w), [])).toEqual(["regWeighted", []]);
    expect(callOf(w, [9])).toEqual(["regWeighted", [9]]);
    // With a `this`, bind stays the native one and the result is refused like a closure.
    expect(() => callOf(w.bind({}, 1), [])).toThrow(/Cannot submit "bound .*fn\.bind\(null/);
  });

  test("a partial made before its target registers is named when it is submitted", () => {
    let offset = 0; // a closure: it cannot travel as its source
    function regLater(a: number, b: number) {
      return a - b + offset;
    }
    const early = partial(regLater, 5);
    expect(() => callOf(early, [1])).toThrow(/a partial of "regLater": it closes over "offset"/);
    task(regLater);
    expect(callOf(early, [1])).toEqual(["regLater", [5, 1]]);
    offset = 1;
    expect(early(1)).toBe(5);
  });

  test("builtins are named by path and looked up only from the table", () => {
    expect(nameOf(Math.cos)).toBe("scoop:builtin:Math.cos");
    expect(lookup("scoop:builtin:Math.cos")).toBe(Math.cos);
    expect(lookup("scoop:builtin:JSON.stringify")).toBe(JSON.stringify);
    expect(lookup("scoop:builtin:eval")).toBeUndefined();
    expect(lookup("scoop:builtin:Function")).toBeUndefined();
    expect(lookup("scoop:builtin:Object.prototype")).toBeUndefined();
  });

  test.each([
    [
      "a partial of a closure",
      () => callOf(partial((x: number) => x + local, 1), []),
      /Cannot submit a partial of an anonymous function: .* closes over "local"/,
    ],
    ["a partial of a non-function", () => partial(5 as never), /Cannot make a partial: expected/],
    [
      "a closure",
      () => nameOf((x: number) => x + local),
      /Cannot submit an anonymous function: it closes over "local", .*partial\(/,
    ],
    [
      "an unregistered named function",
      () =>
        nameOf(function stray() {
          return local;
        }),
      /Cannot submit "stray": it closes over "local"/,
    ],
    ["a non-function", () => nameOf(42), /Cannot submit: expected a task function, got number/],
    [
      "a name taken by another function",
      () => task("regB", () => 0),
      /Cannot register task "regB": another function is already registered/,
    ],
    [
      "an anonymous function",
      () => task((() => (x: number) => x)()),
      /Cannot register an anonymous function as a task/,
    ],
    ["a reserved name", () => task("scoop:x", () => 0), /prefix "scoop:" is reserved/],
    ["a non-function value", () => task("x", 5 as never), /expected a function, got number/],
  ])("rejects %s with a TypeError that names the fix", (_, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });

  test("internal tasks live under the scoop: prefix", () => {
    const f = () => 0;
    internalTask("probe", f);
    expect(lookup("scoop:probe")).toBe(f);
  });
});
