/**
 * An sshd on lab hosts (tests/lab/netns.ts), for the launcher's hosts over ssh: a host key and a
 * client key made for the run, key-only root login, each sshd in its host's network namespace
 * with the host's name as its own. Needs Debian's openssh-server and openssh-client;
 * `sshProblem()` says why a test must be skipped instead.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lab } from "./netns.ts";

const SSHD = "/usr/sbin/sshd";

/** Why sshd cannot run here (beyond the lab's own needs), or undefined when it can. */
export function sshProblem(): string | undefined {
  if (!existsSync(SSHD)) return "sshd is missing (apt-get install openssh-server)";
  if (!["/usr/bin/ssh", "/bin/ssh"].some(existsSync)) {
    return "ssh is missing (apt-get install openssh-client)";
  }
  return undefined;
}

/**
 * Start an sshd on each of the lab's hosts `which` (indexes), its files in `dir`. Resolves once
 * every one listens, with the `--ssh` command that logs in to them. They end with `lab.down()`.
 */
export async function startSshd(lab: Lab, dir: string, which: number[]): Promise<string> {
  const key = (name: string) => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, name)]);
    return join(dir, name);
  };
  const hostKey = key("host_ed25519");
  const clientKey = key("id_ed25519");
  execFileSync("cp", [`${clientKey}.pub`, join(dir, "authorized_keys")]);
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      "ListenAddress 0.0.0.0:22",
      `HostKey ${hostKey}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "StrictModes no",
      "PidFile none",
      "LogLevel ERROR",
    ].join("\n") + "\n",
  );
  execFileSync("mkdir", ["-p", "/run/sshd"]); // sshd's privilege separation directory
  for (const i of which) {
    const [cmd, ...args] = lab.named(i, [SSHD, "-D", "-e", "-f", config]);
    spawn(cmd, args, { stdio: "ignore" }).unref();
  }
  for (const i of which) await listening(lab, i, 22);
  return `ssh -i ${clientKey} -o UserKnownHostsFile=${join(dir, "known_hosts")} ` +
    "-o StrictHostKeyChecking=accept-new -o LogLevel=ERROR -l root";
}

/** Wait until something listens on TCP `port` on lab host `i`. */
async function listening(lab: Lab, i: number, port: number): Promise<void> {
  const [cmd, ...args] = lab.on(i, ["ss", "-Hltn", `sport = :${port}`]);
  for (let tries = 0; tries < 400; tries++) {
    if (execFileSync(cmd, args, { encoding: "utf8" }).trim() !== "") return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Nothing listens on port ${port} on ${lab.hosts[i]} after 10 s`);
}
