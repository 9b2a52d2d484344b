/**
 * Lines of `wrangler dev`'s own output, made to say what they are. When a client goes away
 * before its answer (an aborted upload, a closed connection), wrangler's proxy in front of the
 * Worker prints "✘ [ERROR] Error inside ProxyWorker …", which reads like a Worker crash; the
 * Worker itself logged nothing wrong. Such lines are rewritten as a dropped request.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are what is stripped
const ANSI = /\u001b\[[0-9;]*m/g;
const PROXY_DROP = /Error inside ProxyWorker[^:]*: (\S+ \S+) \(failed after \d+ attempts?\): (.*)$/;

/** The line as it should read in a log: a proxy's dropped request named as such, anything else unchanged. */
export function describeDevServerLine(line: string): string {
  const plain = line.replace(ANSI, "");
  const drop = PROXY_DROP.exec(plain);
  if (!drop) return line;
  return `request dropped between the client and the Worker (wrangler dev's proxy; the client closed the connection or the Worker restarted, no Worker error): ${drop[1]}: ${drop[2]}`;
}
