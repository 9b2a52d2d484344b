/**
 * Puts a subnet on a fresh local chain the way an owner would (docs/LOCAL_CHAIN.md §3):
 * a subnet owned by //Bob, rate limits off, a validator with stake, and miners registered by
 * burning. Transactions are signed with explicit nonces (the pool otherwise rejects a quick
 * second transaction as stale) and wait for inclusion; a dispatch error throws with its name.
 */
import { ApiPromise, WsProvider } from "@polkadot/api";
import type { SubmittableExtrinsic } from "@polkadot/api/types";
import { Keyring } from "@polkadot/keyring";
import type { KeyringPair } from "@polkadot/keyring/types";
import type { Null, Result } from "@polkadot/types";
import type { AccountInfo, DispatchError } from "@polkadot/types/interfaces";
import { u8aToHex } from "@polkadot/util";

export interface SubnetAccount {
  readonly name: string;
  readonly coldkey: KeyringPair;
  readonly hotkey: KeyringPair;
}

export interface LocalSubnet {
  readonly netuid: number;
  readonly owner: SubnetAccount;
  readonly validator: SubnetAccount;
  readonly miners: readonly SubnetAccount[];
}

/** A dev account: coldkey //Name, hotkey //Name//hot. */
export function devAccount(name: string): SubnetAccount {
  const keyring = new Keyring({ type: "sr25519", ss58Format: 42 });
  return { name, coldkey: keyring.addFromUri(`//${name}`), hotkey: keyring.addFromUri(`//${name}//hot`) };
}

/** "pallet.Error" for a module error, else the error as text. */
export function dispatchErrorName(api: ApiPromise, err: DispatchError): string {
  if (!err.isModule) return err.toString();
  const meta = api.registry.findMetaError(err.asModule);
  return `${meta.section}.${meta.name}`;
}

/**
 * Submits a transaction and resolves once it is in a block. A failed dispatch, or a failed call
 * inside `sudo.sudo` (which itself succeeds), throws an Error named "pallet.Error".
 */
export async function send(api: ApiPromise, tx: SubmittableExtrinsic<"promise">, signer: KeyringPair): Promise<void> {
  const nonce = await api.rpc.system.accountNextIndex(signer.address);
  await new Promise<void>((resolve, reject) => {
    tx.signAndSend(signer, { nonce }, ({ status, dispatchError, events }) => {
      if (!status.isInBlock && !status.isFinalized) return;
      if (dispatchError) return reject(new Error(dispatchErrorName(api, dispatchError)));
      const sudid = events.find(({ event }) => event.section === "sudo" && event.method === "Sudid");
      const result = sudid?.event.data[0] as Result<Null, DispatchError> | undefined;
      if (result?.isErr) return reject(new Error(dispatchErrorName(api, result.asErr)));
      resolve();
    }).catch(reject);
  });
}

/** Connects to a local chain over WebSocket. */
export async function connect(wsUrl: string): Promise<ApiPromise> {
  return ApiPromise.create({ provider: new WsProvider(wsUrl), noInitWarn: true, throwOnConnect: true });
}

/** The miners Dave, Eve and Ferdie: the dev accounts every local chain funds. */
export const DEV_MINERS = ["Dave", "Eve", "Ferdie"] as const;

/** `count` miner names "Miner01", "Miner02"…: fund them with startLocalChain's fundedUris: accountUris(names). */
export function minerNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `Miner${String(i + 1).padStart(2, "0")}`);
}

/**
 * Registers a subnet owned by //Bob with //Charlie as validator (100 TAO staked) and the given
 * miners (default DEV_MINERS), in that order: uid 0 the owner, 1 the validator, then the miners.
 * Miners beyond the dev accounts must have been funded when the chain started (accountUris).
 * The chain must be in Instant mode.
 */
export async function setUpSubnet(
  api: ApiPromise,
  opts: { readonly miners?: readonly string[] } = {},
): Promise<LocalSubnet> {
  const alice = devAccount("Alice").coldkey;
  const owner = devAccount("Bob");
  const validator = devAccount("Charlie");
  const miners = (opts.miners ?? DEV_MINERS).map(devAccount);
  await requireFunds(api, [validator, ...miners]);
  const sudo = (call: SubmittableExtrinsic<"promise">) => send(api, api.tx.sudo.sudo(call), alice);
  const tx = api.tx;

  await sudo(tx.adminUtils.sudoSetNetworkRateLimit(0)); // genesis: one network per 10 blocks
  await send(api, tx.subtensorModule.registerNetwork(owner.hotkey.address, 1), owner.coldkey); // spec 218: (hotkey, mechid)
  const netuid = Number((await api.query.subtensorModule.totalNetworks()).toString()) - 1;
  // Spec 218 seeds a new subnet's pool with 1 rao a side; give it depth so stake buys alpha 1:1.
  await api.rpc("dev_setStorage", {
    SubtensorModule: { SubnetTAO: [[[netuid], "1000000000000"]], SubnetAlphaIn: [[[netuid], "1000000000000"]] },
  });
  await sudo(
    tx.utility.batchAll([
      tx.adminUtils.sudoSetTargetRegistrationsPerInterval(netuid, 256),
      tx.adminUtils.sudoSetMaxRegistrationsPerBlock(netuid, 256),
      tx.adminUtils.sudoSetTempo(netuid, 10),
      tx.adminUtils.sudoSetWeightsSetRateLimit(netuid, 0),
      tx.adminUtils.sudoSetCommitRevealWeightsEnabled(netuid, false),
    ]),
  );
  for (const account of [validator, ...miners]) {
    await send(api, tx.subtensorModule.burnedRegister(netuid, account.hotkey.address), account.coldkey);
  }
  await send(api, tx.subtensorModule.addStake(validator.hotkey.address, netuid, 100n * 10n ** 9n), validator.coldkey);
  return { netuid, owner, validator, miners };
}

/** Fails fast, with the fix, when an account was not funded at start (registration would fail with a pool error). */
async function requireFunds(api: ApiPromise, accounts: readonly SubnetAccount[]): Promise<void> {
  const unfunded: string[] = [];
  for (const { name, coldkey, hotkey } of accounts) {
    for (const [uri, pair] of [
      [`//${name}`, coldkey],
      [`//${name}//hot`, hotkey],
    ] as const) {
      const { data } = (await api.query.system.account(pair.address)) as AccountInfo;
      if (data.free.isZero()) unfunded.push(uri);
    }
  }
  if (unfunded.length > 0) {
    throw new Error(
      `not funded on this chain: ${unfunded.join(", ")}; start it with startLocalChain({ fundedUris: accountUris(names) })`,
    );
  }
}

/** Dispatches `call` as root (//Alice is the local chain's sudo key); a failed inner call throws. */
export async function sudo(api: ApiPromise, call: SubmittableExtrinsic<"promise">): Promise<void> {
  await send(api, api.tx.sudo.sudo(call), devAccount("Alice").coldkey);
}

/**
 * A hotkey's commitment on the subnet as a miner makes it: one `Data::RawN` field holding the
 * text's N bytes (a Templar commitment is 128 characters: Raw128; docs/LOCAL_CHAIN.md §4).
 */
export async function setCommitment(api: ApiPromise, netuid: number, hotkey: KeyringPair, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 128) throw new Error("a commitment field holds at most 128 bytes");
  const field = { [`Raw${bytes.length}`]: u8aToHex(bytes) };
  await send(api, api.tx.commitments.setCommitment(netuid, { fields: [field] }), hotkey);
}

/** Builds `count` empty blocks (chopsticks dev_newBlock); resolves with the new head's number. */
export async function newBlocks(api: ApiPromise, count: number): Promise<number> {
  if (count > 0) await api.rpc("dev_newBlock", { count });
  return (await api.rpc.chain.getHeader()).number.toNumber();
}

/** Rolls the chain back to `hash` (chopsticks dev_setHead): storage and nonces as they were there. */
export async function setHead(api: ApiPromise, hash: string): Promise<void> {
  await api.rpc("dev_setHead", hash);
}

/**
 * Registers one more miner on a running local chain: funds //Name and //Name//hot (storage
 * written through chopsticks' dev API, as the start-up funding is) and burns a registration of
 * the hotkey from the coldkey. Returns its uid. The block producer (the pacer, or Instant mode)
 * must be running.
 */
export async function registerMiner(
  api: ApiPromise,
  netuid: number,
  name: string,
): Promise<{ uid: number; hotkey: string }> {
  const account = devAccount(name);
  const funded = { providers: 1, data: { free: "1000000000000000" } };
  await api.rpc("dev_setStorage", {
    System: { Account: [account.coldkey, account.hotkey].map((pair) => [[pair.address], funded]) },
  });
  await send(api, api.tx.subtensorModule.burnedRegister(netuid, account.hotkey.address), account.coldkey);
  const uid = (await api.query.subtensorModule.uids(netuid, account.hotkey.address)).toJSON();
  if (typeof uid !== "number") throw new Error(`${account.hotkey.address} is not registered on netuid ${netuid}`);
  return { uid, hotkey: account.hotkey.address };
}
