// One catalog, no exceptions: every error code the code base can store, log, return or send
// (an EdgeError's code, a `code`/`errorCode` field, a code in SQL text) is in schema/errors.ts.
// The codes are collected from the sources with TypeScript's own parser.
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../../schema/errors.ts";
import { ROOT, sourceFiles } from "./support/source-files.ts";

/** What a code looks like: SCREAMING_SNAKE with at least one underscore ("NOT_FOUND"). */
const SNAKE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
/** Fields that hold an error code, wherever a literal is assigned or compared to them. */
const CODE_FIELDS = new Set(["code", "errorCode", "error_code", "lastErrorCode", "last_error_code"]);
const OR_ELSE = new Set([ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken]);
const EQUALITY = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
]);

/** The literals an expression can evaluate to: `"X"`, both arms of `c ? "X" : "Y"`, both sides of `a ?? "Y"`. */
function literalsIn(node: ts.Expression): string[] {
  if (ts.isStringLiteralLike(node)) return node.text ? [node.text] : [];
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node))
    return literalsIn(node.expression);
  if (ts.isConditionalExpression(node)) return [...literalsIn(node.whenTrue), ...literalsIn(node.whenFalse)];
  if (ts.isBinaryExpression(node) && OR_ELSE.has(node.operatorToken.kind))
    return [...literalsIn(node.left), ...literalsIn(node.right)];
  return [];
}

const nameOf = (n: ts.Node | undefined) => (n && (ts.isIdentifier(n) || ts.isStringLiteral(n)) ? n.text : undefined);

/** The codes one source text can emit, each with where it was seen. */
function emittedCodes(file: string, text: string): { code: string; where: string }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { code: string; where: string }[] = [];
  const at = (n: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const visit = (n: ts.Node) => {
    // new EdgeError("CODE", …)
    if (ts.isNewExpression(n) && nameOf(n.expression) === "EdgeError" && n.arguments?.[0])
      for (const code of literalsIn(n.arguments[0])) out.push({ code, where: at(n) });
    // { code: "CODE" }, { errorCode: cond ? "A" : "B" }
    if (ts.isPropertyAssignment(n) && CODE_FIELDS.has(nameOf(n.name) ?? ""))
      for (const code of literalsIn(n.initializer)) out.push({ code, where: at(n) });
    // x.code === "CODE"
    if (
      ts.isBinaryExpression(n) &&
      EQUALITY.has(n.operatorToken.kind) &&
      ts.isPropertyAccessExpression(n.left) &&
      CODE_FIELDS.has(n.left.name.text)
    )
      for (const code of literalsIn(n.right)) out.push({ code, where: at(n) });
    // "CODE" satisfies ErrorCode, and every code-shaped literal; 'CODE' inside SQL text
    if (
      ts.isStringLiteralLike(n) ||
      ts.isTemplateLiteralToken(n) ||
      ts.isTemplateMiddleOrTemplateTail(n) ||
      ts.isTemplateHead(n)
    ) {
      if (SNAKE.test(n.text)) out.push({ code: n.text, where: at(n) });
      for (const m of n.text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g))
        out.push({ code: m[1] as string, where: at(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return out;
}

describe("the error catalog", () => {
  const emitted = sourceFiles().flatMap((f) => emittedCodes(f, readFileSync(path.join(ROOT, f), "utf8")));

  it("holds every code the code base emits", () => {
    const missing = emitted.filter((e) => !Object.hasOwn(ERROR_CODES, e.code)).map((e) => `${e.code} (${e.where})`);
    expect(missing).toEqual([]);
  });

  it("sees codes in each place they are written", () => {
    const codes = new Set(emitted.map((e) => e.code));
    // a stored code bound into SQL, both arms of a ternary, a runner's fallback, an EdgeError
    for (const code of ["LEASE_EXPIRED", "COPY_EXACT", "COPY_NEAR", "INTERNAL", "WINDOW_STATE_CONFLICT"])
      expect(codes, code).toContain(code);
    expect(codes.size).toBeGreaterThan(40);
  });

  it("would catch a code missing from the catalog, in any of those places", () => {
    const probe = [
      'throw new EdgeError("NOPE_ONE", "x");',
      'const row = { errorCode: f.kind === "exact" ? "NOPE_TWO" : null, code: text("code") };',
      "db.prepare(\"UPDATE t SET last_error_code = 'NOPE_THREE'\");",
      'if (e.code === "Nope") {}',
    ].join("\n");
    expect(new Set(emittedCodes("probe.ts", probe).map((e) => e.code))).toEqual(
      new Set(["NOPE_ONE", "NOPE_TWO", "NOPE_THREE", "Nope"]),
    );
  });
});
