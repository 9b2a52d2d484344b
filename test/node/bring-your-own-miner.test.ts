// "Bring your own miner" (docs/LOCAL_NETWORK.md) with a client written from docs/SPEC.md alone
// (support/spec-only-miner.ts): a fresh hotkey registered on the local chain the way
// `npm run register-miner` does it, a validator in wrangler dev following that chain, and one
// upload of the SPEC-only client: its uid from GET /v1/hotkeys/{hotkey}, 202, then `valid`; the
// client writes gradient format version 2 there, and its files of both versions are the
// reference encoder's tensors byte for byte.
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import type { ApiPromise } from "@polkadot/api";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gradientLayout } from "../../schema/codec/chunking.ts";
import { compressGradient, sampleParams } from "../../schema/codec/encode.ts";
import { readGradientFile } from "../../schema/codec/read.ts";
import { getHparams } from "../../schema/hparams.ts";
import { modelArtifacts } from "../../scripts/artifacts/model-artifacts.ts";
import { type LocalChain, startLocalChain } from "../../scripts/local-chain/chopsticks.ts";
import { type Pacer, startPacer } from "../../scripts/local-chain/pacer.ts";
import { connect, registerMiner, setUpSubnet } from "../../scripts/local-chain/subnet.ts";
import { SPEC_SOURCE, specAvailable } from "../../scripts/local-chain/subtensor-spec.ts";
import { randomValues, rng, TEST_MANIFEST } from "../shared/fixtures/gradients.ts";
import { type LocalValidator, startLocalValidator } from "./support/local-validator.ts";
import { gradientFile, runSpecOnlyMiner, type SpecMinerResult } from "./support/spec-only-miner.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLIENT = "test/node/support/spec-only-miner.ts";
/** Faster blocks than npm start's 3 s, so that a put window (18 s on the local profile) comes within 30 s. */
const PERIOD_MS = 1500;
const NAME = "Byom";
const available = specAvailable();
if (!available)
  console.warn(
    `SKIPPED bring your own miner: the subtensor spec is absent at ${SPEC_SOURCE} (CI has it; set SUBTENSOR_SPEC)`,
  );

/** Every module specifier a file imports, requires or re-exports. */
function specifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const dynamic = callee.kind === ts.SyntaxKind.ImportKeyword;
      const required = ts.isIdentifier(callee) && callee.text === "require";
      if (dynamic || required) {
        const arg = node.arguments[0];
        out.push(arg && ts.isStringLiteralLike(arg) ? arg.text : "<computed>");
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe("the SPEC-only miner client", () => {
  it("imports only npm packages of package.json and node builtins, never a file of the project", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as Record<
      string,
      Record<string, string> | undefined
    >;
    const packages = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
    // The scan sees a project import where there is one: this file's own.
    expect(specifiers("test/node/bring-your-own-miner.test.ts")).toContain("./support/spec-only-miner.ts");
    const found = specifiers(CLIENT);
    expect(found.length).toBeGreaterThan(0);
    const packageOf = (s: string) =>
      s
        .split("/")
        .slice(0, s.startsWith("@") ? 2 : 1)
        .join("/");
    const foreign = found.filter(
      (s) =>
        !(s.startsWith("node:") && builtinModules.includes(s.slice(5))) &&
        !(!s.startsWith(".") && !s.startsWith("/") && packages.has(packageOf(s))),
    );
    expect(foreign).toEqual([]);
  });

  it.each([1, 2] as const)(
    "writes, from the SPEC, in format version %i, the tensors the reference encoder writes for the same values, in a file the codec validates",
    (version) => {
      const hparams = getHparams("local");
      const layouts = gradientLayout(TEST_MANIFEST, hparams.compression);
      const next = rng(17);
      const grads = layouts.map((l) => randomValues(next, l.numel));
      const theta = randomValues(
        next,
        layouts.reduce((n, l) => n + l.numel, 0),
      );
      const c = hparams.compression;
      const identity = { netuid: 2, window: 41, uid: 7, hotkey: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty" };
      const file = gradientFile(TEST_MANIFEST, grads, c, {
        format: "templar-edge.gradient",
        format_version: String(version),
        ...Object.fromEntries(Object.entries(identity).map(([k, v]) => [k, String(v)])),
        base_window: "41",
        target_chunk: String(c.target_chunk),
        topk_compression: String(c.topk_compression),
        quantization_bins: String(c.quantization_bins),
        quantization_range: String(c.quantization_range),
        use_dct: "false",
        param_sample: JSON.stringify(sampleParams(theta, layouts, hparams.sync)),
      });
      const read = readGradientFile(file, { manifest: TEST_MANIFEST, hparams, size: file.length, expect: identity });
      expect(read.report.metadata.format_version).toBe(version);
      const flat = new Float32Array(theta.length);
      let at = 0;
      for (const g of grads) {
        flat.set(g, at);
        at += g.length;
      }
      const reference = compressGradient(flat, layouts, c, version);
      expect(read.params).toHaveLength(reference.length);
      read.params.forEach((p, i) => {
        const want = reference[i] as (typeof reference)[number];
        expect(p.name).toBe(want.name);
        expect(want.formatVersion).toBe(version);
        expect([...p.idxs], `${p.name}.idxs`).toEqual([...want.idxs]);
        expect([...p.codes], `${p.name}.codes`).toEqual([...want.codes]);
        expect([...p.lookup], `${p.name}.lookup`).toEqual([...want.lookup]);
        expect(p.shift, `${p.name}.shift`).toBe(want.shift);
      });
    },
  );
});

describe.skipIf(!available)("bring your own miner: a SPEC-only client on the local chain", () => {
  let chain: LocalChain;
  let api: ApiPromise;
  let pacer: Pacer;
  let validator: LocalValidator;
  let registered: { uid: number; hotkey: string };
  let netuid: number;
  const chainLog: string[] = [];

  beforeAll(async () => {
    // Only the validator needs funds at start; register-miner funds its own accounts.
    chain = await startLocalChain({ log: (line) => chainLog.push(line) });
    api = await connect(chain.wsUrl);
    netuid = (await setUpSubnet(api, { miners: [] })).netuid;
    pacer = await startPacer(api, { periodMs: PERIOD_MS });
    // What `npm run register-miner -- --name Byom` runs (scripts/register-miner.ts).
    registered = await registerMiner(api, netuid, NAME);
    validator = await startLocalValidator({
      artifacts: modelArtifacts(getHparams("local")),
      vars: { CHAIN_URL: chain.httpUrl, NETUID: String(netuid) },
    });
  }, 90_000);

  afterAll(async () => {
    await validator?.stop();
    await pacer?.stop().catch(() => {});
    await api?.disconnect();
    await chain?.stop();
  });

  it("learns its uid from /v1/hotkeys, uploads in the put window (202) and is judged valid", async () => {
    const lines: string[] = [];
    let result: SpecMinerResult;
    try {
      result = await runSpecOnlyMiner({
        url: validator.url,
        suri: `//${NAME}//hot`,
        timeoutMs: 60_000,
        log: (line) => lines.push(line),
      });
    } catch (e) {
      console.log(`${lines.join("\n")}\n${chainLog.slice(-20).join("\n")}`);
      throw e;
    }
    expect(result.hotkey).toBe(registered.hotkey);
    expect(result.lookup).toEqual({ hotkey: registered.hotkey, uid: registered.uid, netuid });
    expect(result.put.status, JSON.stringify(result.put.body)).toBe(202);
    // the local profile accepts [1, 2]: the client writes the highest, Elias-Fano coded
    expect(result.formatVersion).toBe(2);
    expect(result.verdict).toMatchObject({
      window: result.window,
      uid: registered.uid,
      hotkey: registered.hotkey,
      status: "valid",
      error: null,
    });
  }, 75_000);
});
