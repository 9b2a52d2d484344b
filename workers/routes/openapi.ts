/** GET /openapi.json: the OpenAPI 3.1 document of every route the app serves, built once per isolate. */
import { type Operation, openApiDocument, typedAnswer } from "../../schema/api/openapi.ts";
import { route } from "../http/route.ts";

/** The route that documents `operations()` (every route, itself included). */
export function openApiRoute(operations: () => readonly Operation[]) {
  let document: Record<string, unknown> | undefined;
  return route(
    {
      id: "openapi",
      method: "get",
      path: "/openapi.json",
      tag: "validator",
      summary: "This OpenAPI 3.1 document",
      answers: [typedAnswer(200, "the document", "OpenAPI 3.1")],
    },
    (c) => {
      document ??= openApiDocument(operations());
      return c.json(document);
    },
  );
}
