/**
 * What the Worker's domain modules work with, whichever entry point runs them (HTTP, queue,
 * cron): D1, the buckets, the validation queue, the deployment config, the window clock, the
 * chain (lazily: most requests never need it) and a clock of their own.
 */
import type { ChainClient } from "./chain/chain-client.ts";
import { WindowClock } from "./clock/window-clock.ts";
import { type DeploymentConfig, deploymentConfig } from "./config.ts";
import { type Database, database } from "./d1.ts";
import type { ValidationMessage } from "./validation/messages.ts";

export interface WorkerContext {
  readonly db: Database;
  /** The same database without drizzle, for statements that must run as one transaction. */
  readonly d1: D1Database;
  readonly gradients: R2Bucket;
  readonly artifacts: R2Bucket;
  readonly queue: Queue<ValidationMessage>;
  readonly config: DeploymentConfig;
  readonly clock: WindowClock;
  readonly chain: () => ChainClient;
  readonly now: () => number;
  /** Runs work that the response need not wait for (ExecutionContext.waitUntil where there is one). */
  readonly defer: (work: Promise<unknown>) => void;
}

/** How a Worker entry point gets its chain client (a fake in tests, @polkadot/api in production). */
export type ChainFactory = (config: DeploymentConfig) => ChainClient;

/**
 * The context of one Worker invocation; the chain client is created on first use. `waitUntil`:
 * the invocation's ExecutionContext.waitUntil, for work that outlives the response.
 */
export function workerContext(
  env: Env,
  chainFactory: ChainFactory,
  now: () => number = Date.now,
  waitUntil?: (work: Promise<unknown>) => void,
): WorkerContext {
  const config = deploymentConfig(env);
  const db = database(env.DB);
  let client: ChainClient | undefined;
  const chain = () => {
    client ??= chainFactory(config);
    return client;
  };
  const defer = (work: Promise<unknown>) => (waitUntil ? waitUntil(work) : void work.catch(() => {}));
  return {
    db,
    d1: env.DB,
    gradients: env.GRADIENTS,
    artifacts: env.ARTIFACTS,
    queue: env.VALIDATION_QUEUE as Queue<ValidationMessage>,
    config,
    clock: new WindowClock(db, chain, config.hparams.window, now, defer),
    chain,
    now,
    defer,
  };
}
