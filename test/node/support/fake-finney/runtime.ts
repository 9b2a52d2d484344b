/**
 * finney's runtime as data, for the fake node: the real spec-393 metadata (a data file, never
 * committed), the registry built from it, its storage keys and values, its events and module
 * errors. Nothing here is hand-written SCALE for a subtensor type: every key comes from the
 * metadata's own storage hashers and every value from its type registry, so a client that reads
 * this node reads mainnet's layouts.
 */
import { readFileSync } from "node:fs";
import { expandMetadata, Metadata, TypeRegistry } from "@polkadot/types";
import type { DecoratedMeta } from "@polkadot/types/metadata/decorate/types";
import type { Codec } from "@polkadot/types/types";
import { compactStripLength, compactToU8a, hexToU8a, u8aConcat, u8aToHex } from "@polkadot/util";
import { FINNEY_METADATA_SOURCE } from "./metadata-file.ts";

/** A storage value as tests write it: anything `registry.createType` takes for the item's type. */
export type StorageValue = unknown;

/** A storage map keyed by 0x-hex keys, values 0x-hex SCALE: one block's state. */
export type StorageMap = Map<string, string>;

type StorageEntry = DecoratedMeta["query"][string][string];

/** The metadata, its registry and decorations, loaded once per file and shared by every fake node. */
export class FinneyRuntime {
  readonly metadataBytes: Uint8Array;
  readonly registry: TypeRegistry;
  readonly metadata: Metadata;
  readonly decorated: DecoratedMeta;
  /** The `System.Version` constant: what `state_getRuntimeVersion` answers. */
  readonly version: Record<string, unknown>;
  readonly specVersion: number;
  readonly transactionVersion: number;

  private constructor(bytes: Uint8Array) {
    this.metadataBytes = bytes;
    this.registry = new TypeRegistry();
    this.metadata = new Metadata(this.registry, bytes);
    this.registry.setMetadata(this.metadata);
    this.decorated = expandMetadata(this.registry, this.metadata);
    const version = this.decorated.consts.system?.version as unknown as Codec & {
      specVersion: Codec;
      transactionVersion: Codec;
    };
    this.version = version.toJSON() as Record<string, unknown>;
    this.specVersion = Number(version.specVersion.toString());
    this.transactionVersion = Number(version.transactionVersion.toString());
  }

  static #loaded = new Map<string, FinneyRuntime>();

  /** The runtime of the metadata file at `file` (cached: decoding it takes a second). */
  static load(file = FINNEY_METADATA_SOURCE): FinneyRuntime {
    let runtime = FinneyRuntime.#loaded.get(file);
    if (!runtime) {
      runtime = new FinneyRuntime(new Uint8Array(readFileSync(file)));
      FinneyRuntime.#loaded.set(file, runtime);
    }
    return runtime;
  }

  #entry(pallet: string, item: string): StorageEntry {
    const entry = this.decorated.query[pallet]?.[item];
    if (!entry) throw new Error(`the metadata has no storage ${pallet}.${item}`);
    return entry;
  }

  /** The value type of a storage item, as a registry type name (e.g. "Lookup442"). */
  valueType(pallet: string, item: string): string {
    const type = this.#entry(pallet, item).meta.type;
    return this.registry.createLookupType(type.isPlain ? type.asPlain : type.asMap.value);
  }

  /** The 0x-hex storage key of `pallet.item(...keys)`, from the metadata's hashers. */
  key(pallet: string, item: string, ...keys: unknown[]): string {
    const entry = this.#entry(pallet, item) as unknown as (...args: unknown[]) => Uint8Array;
    // The decorated entry returns the key with a SCALE length prefix.
    return u8aToHex(compactStripLength(entry(...keys))[1]);
  }

  /** The 0x-hex prefix of every key of a map under its first key (`iter_prefix`). */
  prefix(pallet: string, item: string, firstKey: unknown): string {
    const entry = this.#entry(pallet, item) as unknown as { keyPrefix(k: unknown): Uint8Array };
    return u8aToHex(entry.keyPrefix(firstKey));
  }

  /** The SCALE encoding of `value` as the item's type, 0x-hex. */
  encode(pallet: string, item: string, value: StorageValue): string {
    // toU8a, not toHex: a UInt's toHex is its big-endian number, not its SCALE bytes.
    return u8aToHex(this.registry.createType(this.valueType(pallet, item), value).toU8a());
  }

  /** The item's value from its stored hex, or the metadata's default when absent; an optional item as an Option. */
  decode<T extends Codec = Codec>(pallet: string, item: string, hex: string | undefined): T {
    const entry = this.#entry(pallet, item);
    const type = this.valueType(pallet, item);
    const optional = entry.meta.modifier.isOptional;
    if (hex !== undefined) {
      const value = this.registry.createType(type, hexToU8a(hex));
      return (optional ? this.registry.createType(`Option<${type}>`, value) : value) as unknown as T;
    }
    if (optional) return this.registry.createType(`Option<${type}>`) as unknown as T;
    return this.registry.createType(type, entry.meta.fallback.toU8a(true)) as unknown as T;
  }

  /** Whether the metadata has the item (for runtimes that lack some). */
  hasStorage(pallet: string, item: string): boolean {
    return this.decorated.query[pallet]?.[item] !== undefined;
  }

  /** A pallet's index in the runtime (SubtensorModule is 7). */
  palletIndex(pallet: string): number {
    const found = this.metadata.asLatest.pallets.find((p) => lowerFirst(p.name.toString()) === pallet);
    if (!found) throw new Error(`the metadata has no pallet ${pallet}`);
    return found.index.toNumber();
  }

  /** The SCALE bytes of an event: pallet index, event index, its fields as the metadata types them. */
  event(pallet: string, name: string, fields: readonly unknown[]): Uint8Array {
    const event = (this.decorated.events[pallet] as Record<string, { meta: EventMeta }> | undefined)?.[name];
    if (!event) throw new Error(`the metadata has no event ${pallet}.${name}`);
    const types = event.meta.fields.map((f) => this.registry.createLookupType(f.type));
    if (types.length !== fields.length) throw new Error(`${pallet}.${name} has ${types.length} fields`);
    return u8aConcat(
      new Uint8Array([this.palletIndex(pallet), event.meta.index.toNumber()]),
      ...types.map((t, i) => this.registry.createType(t, fields[i]).toU8a()),
    );
  }

  /** `DispatchError::Module` for a pallet error by name, as the runtime encodes it (index from the metadata). */
  moduleError(pallet: string, name: string): { Module: { index: number; error: string } } {
    const error = (this.decorated.errors[pallet] as Record<string, { meta: { index: Codec } }> | undefined)?.[name];
    if (!error) throw new Error(`the metadata has no error ${pallet}.${name}`);
    const index = Number(error.meta.index.toString());
    return { Module: { index: this.palletIndex(pallet), error: u8aToHex(new Uint8Array([index, 0, 0, 0])) } };
  }

  /** `System.Events`: the SCALE `Vec<EventRecord>` of `(phase, event bytes)` records, topics empty. */
  eventRecords(records: readonly EventRecordInput[]): string {
    const encoded = records.map(({ phase, event }) =>
      u8aConcat(this.registry.createType("Phase", phase).toU8a(), event, compactToU8a(0)),
    );
    return u8aToHex(u8aConcat(compactToU8a(records.length), ...encoded));
  }
}

/** One event of a block and when it happened. */
export interface EventRecordInput {
  /** "Initialization", { ApplyExtrinsic: i } or "Finalization". */
  readonly phase: unknown;
  readonly event: Uint8Array;
}

interface EventMeta {
  readonly index: { toNumber(): number };
  readonly fields: readonly { readonly type: Parameters<TypeRegistry["createLookupType"]>[0] }[];
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
