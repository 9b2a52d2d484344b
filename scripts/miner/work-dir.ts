/**
 * What a miner keeps in its work dir: every gradient file it uploaded, as
 * `uploads/<window>.safetensors`, then a marker `uploads/<window>.json` saying the validator took
 * it. The marker is written last (renamed into place), so a reader that sees it also sees the
 * whole file: another process (a copier persona) may watch the folder.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The marker of an uploaded window. */
export interface UploadMarker {
  readonly window: number;
  readonly uid: number;
  readonly sha256: string;
  readonly size: number;
  readonly received_at_ms: number;
}

export class WorkDir {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #uploads(): string {
    return path.join(this.dir, "uploads");
  }

  #file(window: number, ext: "safetensors" | "json"): string {
    return path.join(this.#uploads(), `${window}.${ext}`);
  }

  /** Records an accepted upload: the file, then its marker. */
  recordUpload(file: Uint8Array, marker: UploadMarker): void {
    mkdirSync(this.#uploads(), { recursive: true });
    writeAtomically(this.#file(marker.window, "safetensors"), file);
    writeAtomically(this.#file(marker.window, "json"), new TextEncoder().encode(`${JSON.stringify(marker)}\n`));
  }

  /** The marker of window `window`'s upload, if this miner's upload of it was accepted. */
  marker(window: number): UploadMarker | undefined {
    const at = this.#file(window, "json");
    return existsSync(at) ? (JSON.parse(readFileSync(at, "utf8")) as UploadMarker) : undefined;
  }

  /** The file uploaded for `window` (only once its marker exists). */
  uploadedFile(window: number): Uint8Array | undefined {
    return this.marker(window) ? new Uint8Array(readFileSync(this.#file(window, "safetensors"))) : undefined;
  }

  /** Windows with an accepted upload, ascending. */
  uploadedWindows(): number[] {
    if (!existsSync(this.#uploads())) return [];
    return readdirSync(this.#uploads())
      .map((name) => /^(\d+)\.json$/.exec(name)?.[1])
      .filter((w): w is string => w !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }
}

function writeAtomically(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}
