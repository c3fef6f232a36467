/**
 * A thread of `run.ts`: simulates the runs it is sent, one at a time, and posts each result.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { type SimOptions, simulate } from "./sim.ts";

parentPort!.on("message", (options: SimOptions) => parentPort!.postMessage(simulate(options)));
