import { describe, expect, test } from "bun:test";
import {
  decodeFrame,
  decodeValue,
  encodeFrame,
  encodeFrameParts,
  encodeValue,
  OUT_OF_BAND_MIN,
} from "../../src/codec/mod.ts";
import { ProtocolError } from "../../src/errors.ts";
import { callOf, partial, task } from "../../src/executor/registry.ts";

const roundTrip = <T>(v: T): T => decodeValue(encodeValue(v)) as T;

describe("codec: values", () => {
  test("scalars keep their exact value", () => {
    for (const v of [undefined, null, true, false, 0, 1, -1, 2 ** 53, 0.1, "", "héllo ✓"]) {
      expect(Object.is(roundTrip(v), v)).toBe(true);
    }
    expect(Number.isNaN(roundTrip(NaN))).toBe(true);
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(roundTrip(Infinity)).toBe(Infinity);
    expect(roundTrip(-Infinity)).toBe(-Infinity);
  });

  test("-0 survives inside containers and beside shared references", () => {
    const shared = { z: -0 };
    const out = roundTrip({ a: [1, -0], m: new Map([["k", -0]]), s: shared, t: shared });
    expect(Object.is(out.a[1], -0)).toBe(true);
    expect(Object.is(out.m.get("k"), -0)).toBe(true);
    expect(Object.is(out.s.z, -0)).toBe(true);
    expect(out.s).toBe(out.t);
  });

  test("BigInt of any size", () => {
    for (const v of [0n, 5n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 12345678901234567890123456789n]) {
      expect(roundTrip(v)).toBe(v);
    }
  });

  test("arrays, plain objects, null-prototype objects, undefined fields", () => {
    const bare = Object.assign(Object.create(null), { x: 1 });
    const out = roundTrip({ list: [1, "a", [2, [3]]], nested: { u: undefined }, bare });
    expect(out.list).toEqual([1, "a", [2, [3]]]);
    expect("u" in out.nested).toBe(true);
    expect(out.nested.u).toBeUndefined();
    expect(out.bare.x).toBe(1);
  });

  test("Map, Set, Date, RegExp", () => {
    const out = roundTrip({
      m: new Map<unknown, unknown>([[1, { x: 2 }], ["k", [3]]]),
      s: new Set([1, "a"]),
      d: new Date(1234567),
      r: /ab+c/gi,
    });
    expect(out.m).toBeInstanceOf(Map);
    expect(out.m.get(1)).toEqual({ x: 2 });
    expect(out.m.get("k")).toEqual([3]);
    expect(out.s).toEqual(new Set([1, "a"]));
    expect(out.d).toBeInstanceOf(Date);
    expect(out.d.getTime()).toBe(1234567);
    expect(out.r).toBeInstanceOf(RegExp);
    expect(out.r.source).toBe("ab+c");
    expect(out.r.flags).toBe("gi");
  });

  test("ArrayBuffer and every typed array, as raw bytes in aligned buffers", () => {
    const kinds = [
      new Uint8Array([1, 2, 255]),
      new Uint8ClampedArray([3, 4]),
      new Int8Array([-1, 2]),
      new Uint16Array([65535]),
      new Int16Array([-2]),
      new Uint32Array([2 ** 32 - 1]),
      new Int32Array([-(2 ** 31)]),
      new Float32Array([1.5, -0]),
      new Float64Array([Math.PI, -0, NaN]),
      new BigInt64Array([-(2n ** 63n)]),
      new BigUint64Array([2n ** 64n - 1n]),
    ];
    for (const a of kinds) {
      const out = roundTrip(a);
      expect(out.constructor).toBe(a.constructor);
      expect(out.length).toBe(a.length);
      expect(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)).toEqual(
        new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
      );
      expect(out.byteOffset % a.BYTES_PER_ELEMENT).toBe(0);
    }
    const buf = roundTrip(new Uint8Array([9, 8, 7]).buffer);
    expect(buf).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(buf)]).toEqual([9, 8, 7]);
    const view = roundTrip(new Float64Array([1, 2, 3, 4]).subarray(1, 3));
    expect([...view]).toEqual([2, 3]);
    const dv = roundTrip(new DataView(new Uint8Array([1, 2]).buffer));
    expect(dv).toBeInstanceOf(DataView);
    expect(dv.getUint8(1)).toBe(2);
  });

  test("a large typed array is sent as bytes, not as a list of numbers", () => {
    const big = new Float64Array(1 << 20).map((_, i) => i / 3);
    const bytes = encodeValue(big);
    expect(bytes.byteLength).toBeLessThan(big.byteLength + 64);
    expect(roundTrip(big)).toEqual(big);
  });

  test("values with 64 KB of binary data or more are encoded into shared memory", () => {
    const big = {
      id: "a string, written by msgpackr's string writer",
      data: new Float64Array(10_000).map((_, i) => i * 0.5),
      n: -0,
      error: new RangeError("inside"),
    };
    const bytes = encodeValue([big, new Uint8Array(70_000).fill(7)]);
    expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    const [back, raw] = decodeValue(bytes) as [typeof big, Uint8Array];
    expect(back.data).toEqual(big.data);
    expect(Object.is(back.n, -0)).toBe(true);
    expect(back.id).toBe(big.id);
    expect(back.error).toBeInstanceOf(RangeError);
    expect(raw).toEqual(new Uint8Array(70_000).fill(7));
    // Decoded typed arrays are ordinary: they do not share the encoding's memory.
    expect(back.data.buffer).toBeInstanceOf(ArrayBuffer);
    // A small value after it is encoded into a buffer of its own, not after the large one.
    const small = encodeValue([1, "two", 3]);
    expect(small.buffer).not.toBe(bytes.buffer);
    expect(small.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(decodeValue(small)).toEqual([1, "two", 3]);
    // And the large encoding was not overwritten by it.
    expect((decodeValue(bytes) as [typeof big])[0].data).toEqual(big.data);
  });

  test("Error keeps class, name, message, stack, cause and own fields", () => {
    const inner = new TypeError("inner");
    const err = new RangeError("outer", { cause: inner });
    (err as unknown as { code: number }).code = 42;
    const out = roundTrip(err);
    expect(out).toBeInstanceOf(RangeError);
    expect(out.name).toBe("RangeError");
    expect(out.message).toBe("outer");
    expect(out.stack).toBe(err.stack);
    expect(out.cause).toBeInstanceOf(TypeError);
    expect((out.cause as Error).message).toBe("inner");
    expect((out as unknown as { code: number }).code).toBe(42);

    class BadInput extends Error {
      override name = "BadInput";
    }
    const custom = roundTrip(new BadInput("nope"));
    expect(custom).toBeInstanceOf(Error);
    expect(custom.name).toBe("BadInput");
    expect(custom.message).toBe("nope");
    expect("cause" in roundTrip(new Error("x"))).toBe(false);
  });

  test("cycles and shared references keep their identity", () => {
    const node: Record<string, unknown> = { name: "a" };
    node.self = node;
    const shared = [1, 2];
    const out = roundTrip({ node, left: shared, right: shared, m: new Map([["n", node]]) });
    const n = out.node as Record<string, unknown>;
    expect(n.self).toBe(n);
    expect(out.left).toBe(out.right);
    expect(out.m.get("n")).toBe(n);
  });
});

describe("codec: functions travel by reference", () => {
  const codecSq = task(function codecSq(x: number) {
    return x * x;
  });
  const codecWeighted = task(function codecWeighted(w: number, x: number) {
    return w * x;
  });

  test("a registered task arrives as itself anywhere in a value, shared references kept", () => {
    const out = roundTrip([codecSq, { f: codecSq }, new Map([["k", codecSq]]), new Set([codecSq])]);
    expect(out[0]).toBe(codecSq);
    expect(out[1].f).toBe(codecSq);
    expect(out[2].get("k")).toBe(codecSq);
    expect([...out[3]]).toEqual([codecSq]);
  });

  test("builtins arrive as the same builtin, found by path", () => {
    const out = roundTrip([Math.cos, JSON.stringify, Number.parseFloat, parseInt]);
    expect(out).toEqual([Math.cos, JSON.stringify, Number.parseFloat, parseInt]);
  });

  test("partials arrive with their bound arguments (-0 too) and can be submitted again", () => {
    const [byBind, byPartial, twice] = roundTrip([
      codecWeighted.bind(null, 2),
      partial(codecWeighted, -0),
      partial(codecWeighted.bind(null, 3), 4),
    ]);
    expect(byBind(5)).toBe(10);
    expect(Object.is(byPartial(1), -0)).toBe(true);
    expect(twice()).toBe(12);
    expect(callOf(byBind, [7])).toEqual(["codecWeighted", [2, 7]]);
    expect(callOf(byBind.bind(null, 8), [])).toEqual(["codecWeighted", [2, 8]]);
    expect(callOf(partial(Math.max, 1), [2])).toEqual(["scoop:builtin:Math.max", [1, 2]]);
  });

  test("a function that closes over nothing arrives compiled from its source", () => {
    const [f, g, h] = roundTrip([(x: number) => x + 1, async (s: string) => await s.length, {
      k: function (a: number) {
        return Math.max(a, 3);
      },
    }]);
    expect(f(1)).toBe(2);
    expect(g("abc")).toBeInstanceOf(Promise);
    expect(h.k(1)).toBe(3);
  });

  test("a function whose name no peer knows is refused at encode, and at decode", () => {
    const bytes = encodeValue([codecSq]);
    const other = bytes.slice();
    const at = Buffer.from(other).indexOf("codecSq");
    other[at] = "X".charCodeAt(0); // a name this peer has not registered
    expect(() => decodeValue(other)).toThrow(/no task "XodecSq" on this peer/);
  });
});

describe("codec: unsendable values fail at encode with a TypeError naming the path", () => {
  // A function that closes over a local variable (one with none travels as its source).
  let n = 1;
  const closure = () => n++;
  const cases: [string, unknown, RegExp][] = [
    ["closure", [1, { onDone: closure }], /^Cannot send args\[1\]\.onDone: a function .*"n"/],
    ["symbol", [Symbol("s")], /^Cannot send args\[0\]: a symbol/],
    ["class instance", [new (class Point {})()], /args\[0\]: an instance of class Point/],
    ["WeakMap", { w: new WeakMap() }, /args\.w: a WeakMap/],
    ["Promise", [Promise.resolve(1)], /args\[0\]: a Promise/],
    ["closure in a Map", [new Map([["k", closure]])], /args\[0\]\.k: a function/],
    ["closure in a Set", [new Set([closure])], /args\[0\]\[.*Set item 0.*\]: a function/],
    ["closure in an Error field", [Object.assign(new Error("e"), { f: closure })], /\.f: a func/],
    ["partial bound to a this", [Math.max.bind(Math, 1)], /args\[0\]: a function .*fn\.bind\(null/],
    ["unsendable bound argument", [partial(Math.max, Symbol())], /args\[0\]\["<bound 0>"\]: a sym/],
    ["partial of a closure", { f: partial(closure) }, /args\.f: a function .*a partial of "clos/],
  ];
  for (const [name, value, message] of cases) {
    test(name, () => {
      expect(() => encodeValue(value, "args")).toThrow(TypeError);
      expect(() => encodeValue(value, "args")).toThrow(message);
    });
  }
});

describe("codec: frames", () => {
  test("round trip of protocol messages with byte payloads", () => {
    const frame = [{ t: "results", r: [[1, 1, new Uint8Array([1, 2])]] }, {
      t: "load",
      n: 3,
    }];
    const out = decodeFrame(encodeFrame(frame)) as typeof frame;
    expect(out[1]).toEqual({ t: "load", n: 3 });
    expect([...(out[0].r[0][2] as Uint8Array)]).toEqual([1, 2]);
  });

  test("large byte strings travel as pieces of their own, uncopied, and land as views", () => {
    const big = new Uint8Array(OUT_OF_BAND_MIN).map((_, i) => i % 256);
    const other = new Uint8Array(OUT_OF_BAND_MIN + 3).fill(9);
    const block = { owner: "p", data: big, ends: new Uint32Array([1]) };
    const messages = [{ t: "tasks", blocks: [block], load: 0 }, { t: "const", value: other }];
    const pieces = encodeFrameParts(messages);
    expect(pieces.length).toBe(3);
    expect(pieces[1]).toBe(big); // sent from where it is
    expect(pieces[2]).toBe(other);
    expect(messages[0].blocks[0].data).toBe(big); // the messages are left as they were
    const joined = Buffer.concat(pieces);
    const out = decodeFrame(joined) as typeof messages;
    const got = out[0].blocks[0].data;
    expect(Buffer.from(got).equals(Buffer.from(big))).toBe(true);
    expect(got.buffer).toBe(joined.buffer); // a view of the frame, not a copy
    expect(out[1].value.byteLength).toBe(other.byteLength);
    // Without large strings, a frame is plain MessagePack in one piece.
    const small = [{ t: "load", n: 1 }];
    expect(encodeFrameParts(small)).toEqual([encodeFrame(small)]);
  });

  test("a large byte string arrives as bytes however deep it is nested", () => {
    for (let depth = 1; depth <= 8; depth++) {
      let v: unknown = new Uint8Array(OUT_OF_BAND_MIN).fill(depth);
      for (let d = 1; d < depth; d++) v = [v];
      let out: unknown = (decodeFrame(Buffer.concat(encodeFrameParts([v]))) as unknown[])[0];
      for (let d = 1; d < depth; d++) out = (out as unknown[])[0];
      expect(out).toBeInstanceOf(Uint8Array);
      expect((out as Uint8Array)[0]).toBe(depth);
    }
  });

  test("a frame with parts that lie about them throws ProtocolError", () => {
    const [head, part] = encodeFrameParts([{ t: "const", value: new Uint8Array(OUT_OF_BAND_MIN) }]);
    const frame = (...xs: Uint8Array[]) => new Uint8Array(Buffer.concat(xs));
    const bad = [
      frame(head), // its part missing
      frame(head, part, new Uint8Array(1)), // bytes after the parts
      frame(head.subarray(0, 3)), // truncated head
      frame(new Uint8Array([0xc1, 0xff, 0xff, 0xff, 0xff])), // head longer than the frame
      frame(new Uint8Array([0xc1, 0, 0, 0, 1, 0x2a])), // head not [messages, lengths]
    ];
    // A stand-in naming a part that does not exist.
    const liar = encodeFrameParts([{ value: new Uint8Array(OUT_OF_BAND_MIN) }]);
    const headText = Buffer.from(liar[0]);
    const at = headText.indexOf(Buffer.from("\u0000part")) + "\u0000part".length;
    headText[at] = 0x07; // the part index (a positive fixint) becomes 7
    bad.push(frame(headText, liar[1]));
    for (const bytes of bad) expect(() => decodeFrame(bytes)).toThrow(ProtocolError);
  });

  test("malformed bytes throw ProtocolError, never anything else", () => {
    const bad = [
      new Uint8Array([0xdd, 1, 2]),
      new Uint8Array([0xc1]),
      new Uint8Array([0x2a]),
      new Uint8Array(0),
    ];
    for (const bytes of bad) expect(() => decodeFrame(bytes)).toThrow(ProtocolError);
    expect(() => decodeValue(new Uint8Array([0xdb, 0xff]))).toThrow(ProtocolError);
  });
});
