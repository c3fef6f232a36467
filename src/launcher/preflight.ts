/**
 * Imported first by `cli.ts`, before any other module is evaluated: on Bun, re-executes the
 * process with the allocator settings peers need (see `runtime/allocator.ts`) while that still
 * costs only a runtime's start.
 *
 * @module
 */
import { ensureAllocatorSettings } from "../runtime/allocator.ts";

ensureAllocatorSettings();
