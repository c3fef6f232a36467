/**
 * The dashboard's HTTP server, on `node:http` (Bun and Deno both have it): `/` is the page
 * (one self-contained file, `page.ts`), `/state` what it shows now as JSON, which the page
 * asks for every 500 ms (`?tree=N`: the page has version N of the task tree, left out if
 * still current).
 *
 * @module
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { UsageError } from "../errors.ts";
import type { DashboardModel } from "./model.ts";
import { PAGE } from "./page.ts";

/** Where to serve. */
export interface ServeOptions {
  /** Address to bind. @default "127.0.0.1" */
  host?: string;
  /** Port; 0 picks a free one. @default 0 */
  port?: number;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** `http://host:port/` */
  url: string;
  close(): Promise<void>;
}

/** Why a port cannot be listened on, and what to do, in one line. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): UsageError {
  const where = `Cannot serve the dashboard on ${host}:${port}`;
  switch (err.code) {
    case "EADDRINUSE":
      return new UsageError(
        `${where}: the port is in use (give another with --dashboard PORT, or none for a free one)`,
      );
    case "EACCES":
      return new UsageError(`${where}: not allowed to use this port (give one from 1024 up)`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new UsageError(`${where}: no interface of this host has that address`);
    default:
      return new UsageError(`${where}: ${err.code ?? err.message}`, { cause: err });
  }
}

/** Names of this host's loopback interface, as a bind address or a `Host` header's name. */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** The name in a `Host` header (`127.0.0.1:8080` → `127.0.0.1`, `[::1]:80` → `[::1]`). */
function hostOf(header: string | undefined): string {
  return (header ?? "").replace(/:\d*$/, "").toLowerCase();
}

/**
 * Serve `model` on `host:port`.
 * @throws {UsageError} the port cannot be listened on (in use, not allowed): one line saying
 * which and what to do
 */
export async function serveDashboard(
  model: DashboardModel,
  options: ServeOptions = {},
): Promise<DashboardServer> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  const loopback = LOOPBACK.has(host);
  const server: Server = createServer((req, res) => {
    const headers = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      res.writeHead(400, headers).end();
      return;
    }
    // Served on loopback, it answers only to a loopback name: a web page whose name was made
    // to point here (DNS rebinding) does not get to read the job.
    if (loopback && !LOOPBACK.has(hostOf(req.headers.host))) {
      res.writeHead(403, { ...headers, "content-type": "text/plain" }).end("forbidden host\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...headers, allow: "GET" }).end();
    } else if (url.pathname === "/") {
      res.writeHead(200, { ...headers, "content-type": "text/html; charset=utf-8" }).end(PAGE);
    } else if (url.pathname === "/state") {
      const tree = Number(url.searchParams.get("tree") ?? -1);
      const body = JSON.stringify(model.snapshot(Date.now(), tree));
      res.writeHead(200, { ...headers, "content-type": "application/json" }).end(body);
    } else {
      res.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(listenError(err, host, port)));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A page polling with keep-alive holds its connection open: close it now.
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
