import { describe, expect, test } from "bun:test";
import { discoveryTag, reachable } from "../../src/mesh/addresses.ts";

describe("addresses told to other peers", () => {
  test("loopback and unspecified addresses are left out when there are others", () => {
    expect(reachable([
      "/ip4/127.0.0.1/tcp/4001",
      "/ip4/10.0.0.5/tcp/4001",
      "/ip4/0.0.0.0/tcp/4001",
      "/ip6/::1/tcp/4001",
      "/ip6/fe80::1/tcp/4001",
    ])).toEqual(["/ip4/10.0.0.5/tcp/4001", "/ip6/fe80::1/tcp/4001"]);
  });

  test("a grid on one host's loopback keeps its loopback addresses", () => {
    expect(reachable(["/ip4/127.0.0.1/tcp/4001/p2p/12D3"])).toEqual([
      "/ip4/127.0.0.1/tcp/4001/p2p/12D3",
    ]);
  });
});

describe("the mDNS name of a grid", () => {
  const key = new TextEncoder().encode("s3cret");
  test("is a DNS-SD service name that depends on the grid's name and key, not showing the key", () => {
    const tag = discoveryTag("scoop", key);
    expect(tag).toMatch(/^_scoop-[0-9a-f]{20}\._udp\.local$/);
    expect(discoveryTag("scoop", key)).toBe(tag);
    expect(discoveryTag("other", key)).not.toBe(tag);
    expect(discoveryTag("scoop", new TextEncoder().encode("s3cres"))).not.toBe(tag);
    expect(tag).not.toContain("s3cret");
  });
});
