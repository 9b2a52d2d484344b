// The module graph of the code base, read with TypeScript's own parser: no runtime import cycle
// anywhere (type-only imports aside), and the layers import only downwards: schema/ (what every
// side agrees on) imports no side, and the runner and the scripts (the miner among them) import
// nothing from workers/.
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT, sourceFiles } from "./support/source-files.ts";

interface Edge {
  readonly to: string;
  /** false for `import type` / `export type` and imports of types only: erased at run time. */
  readonly runtime: boolean;
}

/** Whether an import clause brings in a value (not only types). */
function importsValue(clause: ts.ImportClause | undefined): boolean {
  if (!clause) return true; // `import "x"` runs x
  if (clause.isTypeOnly) return false;
  if (clause.name) return true;
  const bindings = clause.namedBindings;
  if (!bindings || ts.isNamespaceImport(bindings)) return true;
  return bindings.elements.length === 0 || bindings.elements.some((e) => !e.isTypeOnly);
}

function exportsValue(decl: ts.ExportDeclaration): boolean {
  if (decl.isTypeOnly) return false;
  const clause = decl.exportClause;
  return !clause || !ts.isNamedExports(clause) || clause.elements.some((e) => !e.isTypeOnly);
}

/** The relative imports of a file, resolved to repository paths. */
function edgesOf(file: string): Edge[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const edges: Edge[] = [];
  const add = (specifier: ts.Expression | undefined, runtime: boolean) => {
    if (!specifier || !ts.isStringLiteralLike(specifier) || !specifier.text.startsWith(".")) return;
    edges.push({ to: path.normalize(path.join(path.dirname(file), specifier.text)), runtime });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, importsValue(node.importClause));
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, exportsValue(node));
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node.arguments[0], true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const files = sourceFiles();
const graph = new Map(files.map((f) => [f, edgesOf(f)]));

/** The runtime import cycles (Tarjan's strongly connected components of more than one file, or a self-import). */
function runtimeCycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const strongConnect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const { to, runtime } of graph.get(v) ?? []) {
      if (!runtime || !graph.has(to)) continue;
      if (!index.has(to)) {
        strongConnect(to);
        low.set(v, Math.min(low.get(v) as number, low.get(to) as number));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v) as number, index.get(to) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      component.push(w);
    }
    const selfImport = (graph.get(v) ?? []).some((e) => e.runtime && e.to === v);
    if (component.length > 1 || selfImport) cycles.push(component.sort());
  };
  for (const f of files) if (!index.has(f)) strongConnect(f);
  return cycles;
}

/** Every file `from` reaches through imports of any kind, itself included. */
function reachable(from: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...from];
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    if (seen.has(f)) continue;
    seen.add(f);
    for (const { to } of graph.get(f) ?? []) todo.push(to);
  }
  return seen;
}

describe("the import graph", () => {
  it("reads every source file's imports", () => {
    expect(files.length).toBeGreaterThan(150);
    // a type-only import is seen, and told apart from a runtime one
    expect(graph.get(path.normalize("workers/windows/window-lifecycle.ts"))).toEqual(
      expect.arrayContaining([
        { to: path.normalize("schema/db/index.ts"), runtime: false },
        { to: path.normalize("workers/d1.ts"), runtime: true },
      ]),
    );
  });

  it("has no runtime import cycle in workers/, gpu-runner/, schema/ or scripts/", () => {
    expect(runtimeCycles()).toEqual([]);
  });

  it("finds a cycle where there is one", () => {
    const a = "scripts/__a.ts";
    const b = "scripts/__b.ts";
    files.push(a, b);
    graph.set(a, [{ to: b, runtime: true }]);
    graph.set(b, [{ to: a, runtime: true }]);
    try {
      expect(runtimeCycles()).toEqual([[a, b]]);
    } finally {
      files.splice(files.indexOf(a), 2);
      graph.delete(a);
      graph.delete(b);
    }
  });

  it("keeps schema/ free of every side: it imports nothing from workers/, gpu-runner/ or scripts/", () => {
    const outside = [...reachable(files.filter((f) => f.startsWith(`schema${path.sep}`)))].filter(
      (f) => !f.startsWith(`schema${path.sep}`),
    );
    expect(outside).toEqual([]);
  });

  it("keeps the runner and the scripts (the miner among them) off workers/: they import only schema/ and their own code", () => {
    const entries = files.filter((f) => f.startsWith(`gpu-runner${path.sep}`) || f.startsWith(`scripts${path.sep}`));
    expect(entries).toContain(path.normalize("scripts/miner.ts"));
    expect([...reachable(entries)].filter((f) => f.startsWith(`workers${path.sep}`))).toEqual([]);
  });
});
