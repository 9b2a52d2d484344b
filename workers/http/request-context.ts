/**
 * What every request of the Hono app carries: the Worker's bindings, and the context its domain
 * modules work with (set once per request by createApp).
 */
import type { WorkerContext } from "../context.ts";

export interface AppEnv {
  Bindings: Env;
  Variables: { ctx: WorkerContext };
}
