/** The templar-edge Worker: HTTP, the validation queue's consumer, and the window clock's cron. */
import { createApp } from "./app.ts";
import { PolkadotChainClient } from "./chain/polkadot-chain-client.ts";
import { type ChainFactory, workerContext } from "./context.ts";
import { windowTick } from "./cron/window-tick.ts";
import { log } from "./logging/log.ts";
import { consumeValidationBatch } from "./validation/consume.ts";
import type { ValidationMessage } from "./validation/messages.ts";
import { noteIsolateActive } from "./validation/redelivery.ts";

const chain: ChainFactory = (config) => new PolkadotChainClient(config.chainUrl, config.chainCallTimeoutMs);
const app = createApp({ chain });

// Every handler notes the isolate's first event: a fresh isolate re-queues the validations that
// may have died with the one before it (validation/redelivery.ts).
export default {
  fetch(request, env, ctx) {
    noteIsolateActive(Date.now());
    return app.fetch(request, env, ctx);
  },
  async queue(batch, env) {
    noteIsolateActive(Date.now());
    await consumeValidationBatch(workerContext(env, chain), batch);
  },
  async scheduled(_controller, env) {
    const startedAtMs = Date.now();
    noteIsolateActive(startedAtMs);
    try {
      const report = await windowTick(workerContext(env, chain));
      log.info("tick", { duration_ms: Date.now() - startedAtMs, ...report });
    } catch (e) {
      log.error("tick.failed", { duration_ms: Date.now() - startedAtMs, error: e });
      throw e;
    }
  },
} satisfies ExportedHandler<Env, ValidationMessage>;
