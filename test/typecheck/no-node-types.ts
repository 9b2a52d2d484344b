// Typecheck-only guard (not a test file): `npm run typecheck` fails here if Node's
// types ever reach the workerd programs, e.g. "node" added to `types`, or a
// dependency's .d.ts starting to pull in @types/node.
// @ts-expect-error Buffer is a Node global; worker code must use Uint8Array
export type NoBuffer = typeof Buffer;
// @ts-expect-error the NodeJS namespace only exists in @types/node
export type NoNodeJsNamespace = NodeJS.Process;
