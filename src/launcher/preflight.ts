/**
 * Imported first by `cli.ts`, before any other module is evaluated: on Bun, re-executes the
 * process with the runtime settings peers need (see `runtime/peer-env.ts`) while that still
 * costs only a runtime's start.
 *
 * @module
 */
import { ensurePeerEnv } from "../runtime/peer-env.ts";

ensurePeerEnv();
