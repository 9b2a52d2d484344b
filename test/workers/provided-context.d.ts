// What the workers project's global setup (test/node/support/fake-finney/global-setup.ts) provides.
export {};

declare module "vitest" {
  export interface ProvidedContext {
    /** The fake finney node server's base URL (POST /new makes a node); "" without the metadata. */
    fakeFinneyUrl: string;
    /** Where the metadata was looked for, for the skip warning. */
    fakeFinneyMetadata: string;
  }
}
