/**
 * Vitest global setup of the workers project: starts the fake finney node server in Node, where
 * it can listen, and hands its URL to the tests inside workerd (`inject("fakeFinneyUrl")`), which
 * reach it over loopback with fetch as the chain client does. Without the metadata file the URL
 * is "" and those tests skip.
 */
import type { TestProject } from "vitest/node";
import { FINNEY_METADATA_SOURCE, finneyMetadataAvailable } from "./metadata-file.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The fake finney node server's base URL (POST /new makes a node); "" without the metadata. */
    fakeFinneyUrl: string;
    /** Where the metadata was looked for, for the skip warning. */
    fakeFinneyMetadata: string;
  }
}

/** Starts the server (the metadata is decoded when the first node is made); returns its teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide("fakeFinneyMetadata", FINNEY_METADATA_SOURCE);
  if (!finneyMetadataAvailable()) {
    project.provide("fakeFinneyUrl", "");
    return async () => {};
  }
  // Loaded only when there is a node to serve: @polkadot/types is heavy for runs that need none.
  const { FakeFinneyServer } = await import("./server.ts");
  const server = await FakeFinneyServer.start();
  project.provide("fakeFinneyUrl", server.base);
  return () => server.close();
}
