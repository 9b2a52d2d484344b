/**
 * A route is its operation (schema/api/openapi.ts) declared once, beside its handler: the app
 * serves it by that declaration (its client's rate limit, its auth, then its path parameters, query, headers and JSON
 * body, each parsed with the declared schema) and /openapi.json documents it from the same
 * object, so what is documented is what is enforced.
 */
import type { Context, Hono } from "hono";
import type { z } from "zod";
import type { Operation } from "../../schema/api/openapi.ts";
import { EdgeError, type ErrorCode } from "../../schema/errors.ts";
import { assertAdmin } from "../admin/admin-auth.ts";
import type { WorkerContext } from "../context.ts";
import { log } from "../logging/log.ts";
import { authenticatedRunner, markRunnerSeen, type RunnerRow } from "../runners/runner-auth.ts";
import { enforceRateLimit } from "./rate-limit.ts";
import type { AppEnv } from "./request-context.ts";
import { headerObject, type IssueCode, jsonBody, parseRequest } from "./validate.ts";

/** An operation with how its refusals are coded where the default (BAD_REQUEST) is not right. */
export interface RouteSpec extends Operation {
  /** The code of a path parameter that does not parse, e.g. NOT_FOUND where it names no resource. */
  readonly pathIssue?: IssueCode;
  /** The code of an absent header, reported before any malformed one. */
  readonly missingHeader?: ErrorCode;
  /** The code of a malformed header. */
  readonly headerIssue?: IssueCode;
  /** The message when the body is not JSON. */
  readonly bodyHint?: string;
  /** Called with each refusal of the request (its raw path parameters), before it is answered. */
  readonly onRefusal?: (ctx: WorkerContext, rawParams: Record<string, string>, error: EdgeError) => Promise<void>;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type BodyOf<B> = B extends z.ZodType ? z.output<B> : B extends readonly z.ZodType[] ? unknown : undefined;

/** What a handler gets: the request's context and its input, parsed as declared. */
export interface RouteInput<S extends RouteSpec> {
  readonly ctx: WorkerContext;
  readonly params: Parsed<S["pathParams"]>;
  readonly query: Parsed<S["query"]>;
  readonly headers: Parsed<S["headers"]>;
  /** The parsed JSON body; unparsed JSON where one of several schemas applies (the handler's module picks). */
  readonly body: BodyOf<S["body"]>;
  /** The authenticated runner of a runner route. */
  readonly runner: S["auth"] extends "runner" ? RunnerRow : undefined;
}

export interface Route<S extends RouteSpec = RouteSpec> {
  readonly operation: S;
  handler(c: Context<AppEnv>, input: RouteInput<S>): Response | Promise<Response>;
}

/** A route: its declaration and its handler. */
export function route<const S extends RouteSpec>(
  operation: S,
  handler: (c: Context<AppEnv>, input: RouteInput<S>) => Response | Promise<Response>,
): Route<S> {
  return { operation, handler };
}

async function authenticate(spec: RouteSpec, ctx: WorkerContext, authorization: string | undefined) {
  if (spec.auth === "admin") await assertAdmin(ctx.config.adminToken, authorization);
  if (spec.auth !== "runner") return undefined;
  const runner = await authenticatedRunner(ctx.db, authorization);
  if (!runner) throw new EdgeError("UNAUTHORIZED", "runner routes need `Authorization: Bearer <runner token>`");
  await markRunnerSeen(ctx.db, runner.id, ctx.now());
  return runner;
}

function parseHeaders(spec: RouteSpec, schema: z.ZodObject, headers: Headers): unknown {
  const names = Object.keys(schema.shape);
  const input = headerObject(headers, names);
  const missing = spec.missingHeader && names.find((name) => input[name] === undefined);
  if (spec.missingHeader && missing) throw new EdgeError(spec.missingHeader, `the ${missing} header is required`);
  return parseRequest(schema, input, spec.headerIssue);
}

async function parseBody(spec: RouteSpec, req: Request): Promise<unknown> {
  if (spec.body === undefined || spec.body === "binary") return undefined;
  const json = await jsonBody(req, spec.bodyHint);
  return Array.isArray(spec.body) ? json : parseRequest(spec.body as z.ZodType, json);
}

/** The input of a request to `spec`'s route, checked in order: auth, path, query, headers, body. */
async function routeInput(c: Context<AppEnv>, spec: RouteSpec): Promise<RouteInput<RouteSpec>> {
  const ctx = c.get("ctx");
  const runner = await authenticate(spec, ctx, c.req.header("Authorization"));
  const params = spec.pathParams && parseRequest(spec.pathParams, c.req.param(), spec.pathIssue);
  const query = spec.query && parseRequest(spec.query, c.req.query());
  const headers = spec.headers && parseHeaders(spec, spec.headers, c.req.raw.headers);
  const body = await parseBody(spec, c.req.raw);
  return { ctx, params, query, headers, body, runner } as RouteInput<RouteSpec>;
}

/** Serves each route on the app by its declaration. */
export function serveRoutes(app: Hono<AppEnv>, routes: readonly Route[]): void {
  for (const r of routes) {
    app.on(r.operation.method.toUpperCase(), r.operation.path, async (c) => {
      await enforceRateLimit(c.env, r.operation, c.req.raw.headers);
      const { onRefusal } = r.operation;
      if (!onRefusal) return r.handler(c, await routeInput(c, r.operation));
      try {
        return await r.handler(c, await routeInput(c, r.operation));
      } catch (e) {
        // Bookkeeping of a refusal never turns it into another answer (nor a 5xx).
        if (e instanceof EdgeError && e.status < 500)
          await onRefusal(c.get("ctx"), c.req.param(), e).catch((error: unknown) =>
            log.warn("refusal.unrecorded", { code: e.code, msg: "recording the refusal failed", error }),
          );
        throw e;
      }
    });
  }
}
