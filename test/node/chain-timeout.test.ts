// The chain client's deadline (workers/chain/polkadot-chain-client.ts): a node that stops
// answering makes every call CHAIN_UNAVAILABLE ("timed out after N ms") instead of hanging, and
// the same client works again once the node answers. Two stand-ins for a hung node: a TCP server
// that accepts and never answers (a SIGSTOPped node's kernel still accepts connections), and a
// real chopsticks process SIGSTOPped, then SIGCONTed.
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgeError } from "../../schema/errors.ts";
import { hotkeySignerFromSecret } from "../../schema/keys/hotkey-signer.ts";
import { type LocalChain, startLocalChain } from "../../scripts/local-chain/chopsticks.ts";
import { SPEC_SOURCE, specAvailable } from "../../scripts/local-chain/subtensor-spec.ts";
import { PolkadotChainClient } from "../../workers/chain/polkadot-chain-client.ts";
import { deploymentConfig } from "../../workers/config.ts";

const TIMEOUT_MS = 1500;
/** Against chopsticks: long enough for a resumed node on a loaded machine to send a fresh client its metadata. */
const STALL_TIMEOUT_MS = 5000;

/** What a call failed with: its code and message. */
async function failure(call: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await call;
  } catch (e) {
    if (e instanceof EdgeError) return { code: e.code, message: e.message, details: e.details };
    throw e;
  }
  throw new Error("the call succeeded");
}

describe("a chain node that accepts connections and never answers", () => {
  let server: Server;
  const sockets: Socket[] = [];
  let port = 0;

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.push(socket); // held open, never written to
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each(["http", "ws"])("times out connecting over %s: CHAIN_UNAVAILABLE naming the deadline", async (scheme) => {
    const client = new PolkadotChainClient(`${scheme}://127.0.0.1:${port}`, TIMEOUT_MS);
    try {
      expect(await failure(client.head())).toEqual({
        code: "CHAIN_UNAVAILABLE",
        message: `could not reach the chain for the head: timed out after ${TIMEOUT_MS} ms`,
        details: { timeout_ms: TIMEOUT_MS },
      });
      // Submissions too: the connection they need never comes.
      const signer = hotkeySignerFromSecret("//Alice");
      const submitted = client.submitCommitWeights(signer, 3, `0x${"00".repeat(32)}`);
      expect(await failure(submitted)).toMatchObject({
        code: "CHAIN_UNAVAILABLE",
        message: `could not reach the chain for the node: timed out after ${TIMEOUT_MS} ms`,
      });
    } finally {
      await client.disconnect();
    }
  });
});

const available = specAvailable();
if (!available)
  console.warn(`SKIPPED chopsticks stall tests: the subtensor spec is absent at ${SPEC_SOURCE} (set SUBTENSOR_SPEC)`);

describe.skipIf(!available)("a real chopsticks node SIGSTOPped, then SIGCONTed", () => {
  let chain: LocalChain;

  beforeAll(async () => {
    chain = await startLocalChain();
  }, 240_000);

  afterAll(async () => {
    if (chain) process.kill(chain.pid, "SIGCONT");
    await chain?.stop();
  });

  it.each(["http", "ws"])(
    "over %s: reads time out during the stall and work again after it",
    async (scheme) => {
      const client = new PolkadotChainClient(scheme === "http" ? chain.httpUrl : chain.wsUrl, STALL_TIMEOUT_MS);
      try {
        const before = await client.head();
        process.kill(chain.pid, "SIGSTOP");
        try {
          expect(await failure(client.head())).toMatchObject({
            code: "CHAIN_UNAVAILABLE",
            message: `could not reach the chain for the head: timed out after ${STALL_TIMEOUT_MS} ms`,
          });
          expect(await failure(client.metagraph(1))).toMatchObject({ code: "CHAIN_UNAVAILABLE" });
          expect(await failure(client.block(1))).toMatchObject({ code: "CHAIN_UNAVAILABLE" });
        } finally {
          process.kill(chain.pid, "SIGCONT");
        }
        // The same client: the stuck connection was dropped, the next call connects afresh.
        const after = await client.head();
        expect(after.number).toBeGreaterThanOrEqual(before.number);
        expect(await client.block(1)).toMatchObject({ number: 1 });
      } finally {
        await client.disconnect();
      }
    },
    120_000,
  );
});

describe("CHAIN_CALL_TIMEOUT_MS", () => {
  const vars = { HPARAMS_PROFILE: "local", NETUID: "3", CHAIN_URL: "https://x", WEIGHTS_VERSION_KEY: "0" };

  it("defaults to 10 s, reads milliseconds in [1000, 120000], refuses anything else", () => {
    expect(deploymentConfig(vars).chainCallTimeoutMs).toBe(10_000);
    expect(deploymentConfig({ ...vars, CHAIN_CALL_TIMEOUT_MS: " " }).chainCallTimeoutMs).toBe(10_000);
    expect(deploymentConfig({ ...vars, CHAIN_CALL_TIMEOUT_MS: "2500" }).chainCallTimeoutMs).toBe(2500);
    for (const bad of ["999", "120001", "5s", "-1000", "1e4"]) {
      expect(() => deploymentConfig({ ...vars, CHAIN_CALL_TIMEOUT_MS: bad }), bad).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID" }),
      );
    }
  });
});
