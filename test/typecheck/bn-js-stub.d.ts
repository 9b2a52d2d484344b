// Typecheck-only stand-in for bn.js's types in the schema program (tsconfig.schema.json "paths"):
// @types/bn.js opens with `/// <reference types="node" />`, so @polkadot/util's types would
// otherwise bring Node's globals into the one program that proves schema/ needs none. Nothing in
// schema/ uses BN itself.
declare class BN {
  private readonly brand: never;
}
export default BN;
