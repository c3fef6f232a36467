import { describe, expect, test } from "bun:test";
import { internalTask, lookup, nameOf, registerModule, task } from "../../src/executor/registry.ts";

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

  test.each([
    [
      "a closure",
      () => nameOf((x: number) => x),
      /Cannot submit an anonymous function: it is not a registered task \(export it/,
    ],
    [
      "an unregistered named function",
      () => nameOf(function stray() {}),
      /Cannot submit "stray": it is not a registered task/,
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
