/**
 * What depends on a profile's model family (`model.family`): the byte-level transformer
 * (transformer.ts) or the llama family (llama.ts). Everything that only needs parameter names and
 * shapes goes through here, so it works for both.
 */
import { EdgeError } from "../../schema/errors.ts";
import type { ByteModelHparams, Hparams, LlamaModelHparams, ModelHparams } from "../../schema/hparams.ts";
import { llamaManifest } from "../../schema/model/llama.ts";
import type { ModelManifest } from "../../schema/model/manifest.ts";
import { transformerManifest } from "./transformer.ts";

/** The parameters of a profile's model, in the order of every flat parameter vector. */
export function modelManifest(m: ModelHparams): ModelManifest {
  return m.family === "byte" ? transformerManifest(m) : llamaManifest(m.config);
}

/** Layers of the model (the initialiser scales residual projections by them). */
export function modelLayers(m: ModelHparams): number {
  return m.family === "byte" ? m.n_layers : m.config.num_hidden_layers;
}

/** The profile's byte-level model; CONFIG_INVALID for another family, naming what cannot run it. */
export function byteModel(hparams: Hparams, what: string): ByteModelHparams {
  if (hparams.model.family !== "byte")
    throw new EdgeError(
      "CONFIG_INVALID",
      `profile ${hparams.profile} uses the ${hparams.model.family} family; ${what} runs the byte family only`,
    );
  return hparams.model;
}

/** The profile's llama model, unless it is manifest-only; CONFIG_INVALID otherwise, naming what needed it. */
export function llamaModel(hparams: Hparams, what: string): LlamaModelHparams {
  const m = hparams.model;
  if (m.family !== "llama")
    throw new EdgeError("CONFIG_INVALID", `profile ${hparams.profile} is not a llama profile; ${what} needs one`);
  if (m.manifest_only)
    throw new EdgeError(
      "CONFIG_INVALID",
      `profile ${hparams.profile} is manifest-only (sizes, limits and costs are computed for it; ${what} cannot build it here)`,
    );
  return m;
}
