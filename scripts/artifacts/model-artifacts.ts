/**
 * The model's published artifacts for an hparams profile: its manifest, its loss graph and its
 * initial checkpoint. The same profile always gives the same bytes.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { llamaModel, modelLayers, modelManifest } from "../../gpu-runner/model/family.ts";
import { initialParameters } from "../../gpu-runner/model/init.ts";
import { buildLlamaLossGraph } from "../../gpu-runner/model/llama.ts";
import { buildLossGraph } from "../../gpu-runner/model/transformer.ts";
import type { Hparams } from "../../schema/hparams.ts";
import { writeCheckpoint } from "../../schema/model/checkpoint.ts";
import { INITIAL_CHECKPOINT_KEY, LOSS_GRAPH_KEY, MODEL_MANIFEST_KEY } from "../../schema/model/keys.ts";
import { parameterSlots } from "../../schema/model/manifest.ts";

/** The evaluator's loss graph for the profile's family, batch own_samples. */
function lossGraph(hparams: Hparams): Uint8Array {
  const batch = hparams.evaluation.own_samples;
  if (hparams.model.family === "byte") return buildLossGraph(hparams.model, batch);
  const m = llamaModel(hparams, "publishing the model's artifacts");
  return buildLlamaLossGraph(m.config, batch, m.seq_len);
}

/** An initial checkpoint written elsewhere (`npm run import-checkpoint`): its hash and where it came from. */
export interface ImportedInitial {
  readonly sha256: string;
  readonly source: string;
}

/**
 * Every artifact of the model, by its key in the artifacts bucket. With `imported`, θ_0 is that
 * file (already written beside them) instead of the profile's random initial parameters.
 */
export function modelArtifacts(hparams: Hparams, imported?: ImportedInitial): Map<string, Uint8Array> {
  const manifest = modelManifest(hparams.model);
  const graph = lossGraph(hparams);
  const initial = imported
    ? undefined
    : writeCheckpoint(initialParameters(manifest, modelLayers(hparams.model)), manifest, {
        model: manifest.model,
        window: 0,
        global_step: 0,
      });
  const published = {
    ...manifest,
    profile: hparams.profile,
    parameter_count: parameterSlots(manifest).total,
    loss_graph: { key: LOSS_GRAPH_KEY, batch: hparams.evaluation.own_samples, sha256: bytesToHex(sha256(graph)) },
    initial_checkpoint: {
      key: INITIAL_CHECKPOINT_KEY,
      sha256: imported?.sha256 ?? bytesToHex(sha256(initial as Uint8Array)),
      ...(imported ? { imported_from: imported.source } : {}),
    },
  };
  const files = new Map([
    [MODEL_MANIFEST_KEY, new TextEncoder().encode(`${JSON.stringify(published, null, 2)}\n`)],
    [LOSS_GRAPH_KEY, graph],
  ]);
  if (initial) files.set(INITIAL_CHECKPOINT_KEY, initial);
  return files;
}
