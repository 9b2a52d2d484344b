/**
 * A real subtensor runtime under chopsticks, as a child process on 127.0.0.1
 * (docs/LOCAL_CHAIN.md §2): started on a free port, stopped by its pid.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { Keyring } from "@polkadot/keyring";
import { encodeAddress } from "@polkadot/util-crypto";
import { freePort, stopChild } from "../dev/child-processes.ts";
import { localSpec } from "./subtensor-spec.ts";

export interface LocalChain {
  /** JSON-RPC over HTTP and WebSocket (chopsticks serves both on one port). */
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Resolves with the exit code or signal if the process ends (whether stopped or not). */
  readonly exited: Promise<string>;
}

/** The dev accounts the chain starts with funds for: coldkeys //Name and hotkeys //Name//hot. */
export const DEV_NAMES = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"] as const;

/**
 * The URIs to pass as `fundedUris` so that named accounts beyond the dev ones (e.g. miners
 * "Miner01"…) can pay: coldkey //Name (burn, stake) and hotkey //Name//hot (fees).
 */
export function accountUris(names: readonly string[]): string[] {
  return names.flatMap((n) => [`//${n}`, `//${n}//hot`]);
}

function devAddresses(extra: readonly string[]): string[] {
  const keyring = new Keyring({ type: "sr25519", ss58Format: 42 });
  const uris = [...new Set([...accountUris(DEV_NAMES), ...extra])];
  return uris.map((u) => encodeAddress(keyring.addFromUri(u).publicKey, 42));
}

/**
 * Starts chopsticks with the subtensor runtime. `buildBlockMode` "Instant" makes a block per
 * transaction (setup); "Manual" leaves block production to the caller (the pacer). Every dev
 * account and every `fundedUris` account (see accountUris) starts with 1,000,000 TAO.
 */
export async function startLocalChain(
  opts: { buildBlockMode?: "Instant" | "Manual"; fundedUris?: readonly string[]; log?: (line: string) => void } = {},
): Promise<LocalChain> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "chopsticks-"));
  const config = {
    genesis: localSpec(),
    host: "127.0.0.1",
    port,
    "build-block-mode": opts.buildBlockMode ?? "Instant",
    // Keep every block readable: by default old blocks silently turn into genesis (docs/LOCAL_CHAIN.md §2).
    "max-memory-block-count": 100_000,
    "import-storage": {
      Sudo: { Key: encodeAddress(new Keyring({ type: "sr25519" }).addFromUri("//Alice").publicKey, 42) },
      System: {
        Account: devAddresses(opts.fundedUris ?? []).map((a) => [
          [a],
          { providers: 1, data: { free: "1000000000000000" } },
        ]),
      },
    },
  };
  const configPath = path.join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify(config));
  // The package's exports map hides its bin: resolve the main entry and go up to the package root.
  const main = createRequire(import.meta.url).resolve("@acala-network/chopsticks");
  const bin = path.join(main.replace(/dist[\\/].*$/, ""), "chopsticks.cjs");
  const child: ChildProcess = spawn(process.execPath, [bin, "-c", configPath], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`chopsticks did not start in 120 s:\n${output.slice(-2000)}`)),
      120_000,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split("\n")) if (line.trim()) opts.log?.(line);
      if (output.includes("Failed to apply inherents")) reject(new Error(`chopsticks failed:\n${output.slice(-2000)}`));
      if (output.includes("RPC listening on")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`chopsticks exited with ${code}:\n${output.slice(-2000)}`)));
  });
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  return {
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    pid: child.pid as number,
    stop: () => stopChild(child),
    exited,
  };
}
