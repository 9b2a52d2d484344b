/**
 * Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`, the token being a Worker secret.
 * Both sides are hashed to 32 bytes and compared with timingSafeEqual, so neither the length
 * nor any prefix of the token leaks through timing.
 */
import { EdgeError } from "../../schema/errors.ts";

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

/**
 * Throws unless `authorization` carries the admin token: ADMIN_DISABLED when the deployment has
 * no ADMIN_TOKEN secret, UNAUTHORIZED when the header is missing or the token is wrong.
 */
export async function assertAdmin(adminToken: string | null, authorization: string | null | undefined): Promise<void> {
  if (!adminToken) {
    throw new EdgeError("ADMIN_DISABLED", "admin routes are off: set the ADMIN_TOKEN secret (docs/DEPLOY.md)");
  }
  const given = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
  if (!given) throw new EdgeError("UNAUTHORIZED", "admin routes need `Authorization: Bearer <admin token>`");
  const [a, b] = await Promise.all([sha256(given), sha256(adminToken)]);
  if (!crypto.subtle.timingSafeEqual(a, b)) throw new EdgeError("UNAUTHORIZED", "the admin token is wrong");
}
