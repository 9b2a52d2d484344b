/** Every D1 table of the validator (drizzle-kit reads this file to write schema/migrations). */
export * from "./admin.ts";
export * from "./chain.ts";
export * from "./evaluation.ts";
export * from "./intake.ts";
export * from "./model.ts";
export * from "./scoring.ts";
