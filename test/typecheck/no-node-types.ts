// Typecheck-only guard (not a test file), in the schema program (tsconfig.schema.json): schema/
// runs in workerd, Node and browsers alike, so `npm run typecheck` fails here if Node's types
// ever reach it. (Worker code imports @polkadot/*, whose @types/bn.js pulls Node's globals into
// the workers program; there Biome's noRestrictedGlobals keeps Buffer, process & co. out.)
// @ts-expect-error Buffer is a Node global; shared code must use Uint8Array
export type NoBuffer = typeof Buffer;
// @ts-expect-error the NodeJS namespace only exists in @types/node
export type NoNodeJsNamespace = NodeJS.Process;
