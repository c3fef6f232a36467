/**
 * A LAN of hosts on one machine, for the multi-host tests: network namespaces `<prefix>1…N`
 * with addresses 10.78.0.1…N on a bridge, loopback up, and a multicast route in each (without
 * it, mDNS finds nobody and says nothing). Needs root and `ip` (iproute2); `labProblem()` says
 * why a test must be skipped instead. Traffic stays on the bridge and loopback.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import process from "node:process";

/** The lab's subnet (its hosts are `.1` to `.N`). */
export const NET = "10.78.0";

/** Why the lab cannot be built here, or undefined when it can. */
export function labProblem(): string | undefined {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "network namespaces need root (CI runs as root)";
  if (!["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].some(existsSync)) {
    return "`ip` is missing (apt-get install iproute2)";
  }
  return undefined;
}

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** A lab of `n` hosts; `down()` removes it (and ends what still runs in it). */
export class Lab {
  readonly hosts: string[];
  readonly #bridge: string;

  constructor(readonly prefix: string, n: number) {
    this.hosts = Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
    this.#bridge = `${prefix}br`;
  }

  /** The address of host `i` (from 0). */
  addr(i: number): string {
    return `${NET}.${i + 1}`;
  }

  /** Build it: bridge, namespaces, veth pairs, addresses, multicast routes. */
  up(): this {
    this.down(); // what a killed run left behind
    ip("link", "add", this.#bridge, "type", "bridge");
    ip("link", "set", this.#bridge, "type", "bridge", "mcast_snooping", "0");
    ip("link", "set", this.#bridge, "up");
    this.hosts.forEach((h, i) => {
      ip("netns", "add", h);
      ip("link", "add", `${h}v`, "type", "veth", "peer", "name", "eth0", "netns", h);
      ip("link", "set", `${h}v`, "master", this.#bridge, "up");
      ip("-n", h, "addr", "add", `${this.addr(i)}/24`, "dev", "eth0");
      ip("-n", h, "link", "set", "eth0", "up");
      ip("-n", h, "link", "set", "lo", "up");
      ip("-n", h, "route", "add", "224.0.0.0/4", "dev", "eth0");
    });
    return this;
  }

  /**
   * Let the hosts know each other by name: `/etc/netns/<host>/hosts`, which `ip netns exec`
   * mounts over `/etc/hosts`, names every lab host, and `extra` names (at other addresses).
   */
  names(extra: Record<string, string> = {}): this {
    const lines = ["127.0.0.1 localhost", ...this.hosts.map((h, i) => `${this.addr(i)} ${h}`)];
    for (const [name, addr] of Object.entries(extra)) lines.push(`${addr} ${name}`);
    for (const h of this.hosts) {
      mkdirSync(`/etc/netns/${h}`, { recursive: true });
      writeFileSync(`/etc/netns/${h}/hosts`, lines.join("\n") + "\n");
    }
    return this;
  }

  /** `command` run "on" host `i`, with the host's name as its own (its own UTS namespace). */
  named(i: number, command: string[]): string[] {
    const h = this.hosts[i];
    return this.on(i, [
      "unshare",
      "--uts",
      "sh",
      "-c",
      'hostname "$0" && exec "$@"',
      h,
      ...command,
    ]);
  }

  /** `command` run "on" host `i`. */
  on(i: number, command: string[]): string[] {
    return ["ip", "netns", "exec", this.hosts[i], ...command];
  }

  /** End every process in the lab's namespaces, and remove them and the bridge. */
  down(): void {
    for (const h of this.hosts) {
      rmSync(`/etc/netns/${h}`, { recursive: true, force: true });
      let pids = "";
      try {
        pids = ip("netns", "pids", h);
      } catch {
        continue; // no such namespace
      }
      for (const pid of pids.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // gone
        }
      }
      try {
        ip("netns", "del", h);
      } catch {
        // gone meanwhile
      }
    }
    try {
      ip("link", "del", this.#bridge);
    } catch {
      // none
    }
  }
}
