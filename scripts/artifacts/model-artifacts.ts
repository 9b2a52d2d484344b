/**
 * The model's published artifacts for an hparams profile: its manifest, its loss graph and its
 * initial checkpoint. The same profile always gives the same bytes.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { initialParameters } from "../../gpu-runner/model/init.ts";
import { buildLossGraph, transformerManifest } from "../../gpu-runner/model/transformer.ts";
import type { Hparams } from "../../schema/hparams.ts";
import { writeCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY, LOSS_GRAPH_KEY, MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";

/** Every artifact of the model, by its key in the artifacts bucket. */
export function modelArtifacts(hparams: Hparams): Map<string, Uint8Array> {
  const manifest = transformerManifest(hparams.model);
  const graph = buildLossGraph(hparams.model, hparams.evaluation.own_samples);
  const initial = writeCheckpoint(initialParameters(manifest, hparams.model.n_layers), manifest, {
    model: manifest.model,
    window: 0,
    global_step: 0,
  });
  const published = {
    ...manifest,
    profile: hparams.profile,
    parameter_count: parameterSlots(manifest).total,
    loss_graph: { key: LOSS_GRAPH_KEY, batch: hparams.evaluation.own_samples, sha256: bytesToHex(sha256(graph)) },
    initial_checkpoint: { key: INITIAL_CHECKPOINT_KEY, sha256: bytesToHex(sha256(initial)) },
  };
  return new Map([
    [MODEL_MANIFEST_KEY, new TextEncoder().encode(`${JSON.stringify(published, null, 2)}\n`)],
    [LOSS_GRAPH_KEY, graph],
    [INITIAL_CHECKPOINT_KEY, initial],
  ]);
}
