/** Where the model's artifacts live in the artifacts bucket. */
export const MODEL_MANIFEST_KEY = "model/manifest.json";
export const LOSS_GRAPH_KEY = "model/loss.onnx";
/** θ of every window until the first outer step publishes a checkpoint of its own. */
export const INITIAL_CHECKPOINT_KEY = "model/initial.safetensors";

/** The R2 key of the checkpoint θ_S published for window S. */
export function checkpointKey(window: number): string {
  return `checkpoints/${window}.safetensors`;
}

/** The R2 key of window S's dense aggregate (what turned θ_S into θ_{S+1}). */
export function aggregateKey(window: number): string {
  return `aggregates/${window}.safetensors`;
}
