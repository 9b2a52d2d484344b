/**
 * Regions of a doc that code writes: the text between `<!-- generated:NAME -->` and
 * `<!-- /generated:NAME -->`, rewritten by the `docs:*` scripts and compared by docs.test.ts.
 */

/** `text` with each named region's body replaced; throws naming `doc` when a region is missing. */
export function withGeneratedRegions(text: string, regions: Record<string, string>, doc: string): string {
  let out = text;
  for (const [name, body] of Object.entries(regions)) {
    const re = new RegExp(`(<!-- generated:${name} -->\\n)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`${doc} has no region ${name}`);
    out = out.replace(re, `$1${body}\n$2`);
  }
  return out;
}
