import { offlineOpenApiDocument } from "../scripts/openapi.js";

type Response = { content?: Record<string, { schema?: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } }> };
export interface Operation {
  method: string;
  template: string;
  operationId: string;
  pattern: RegExp;
  /** Literal path segments: `/v1/rooms/{roomId}/members/me` beats `/v1/rooms/{roomId}/members/{x}`. */
  literals: number;
  responses: Record<string, Response>;
  requestBody?: { content: Record<string, { example?: unknown }> };
}

export const document = offlineOpenApiDocument();

export const operations: Operation[] = Object.entries(document.paths).flatMap(([template, item]) =>
  Object.entries(item as Record<string, { operationId: string; responses: Record<string, Response>; requestBody?: Operation["requestBody"] }>)
    .filter(([method]) => method !== "servers")
    .map(([method, operation]) => ({
      method: method.toUpperCase(),
      template,
      operationId: operation.operationId,
      // Exact: `/v1/rooms/` is not `/v1/rooms` (the router answers it 405).
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
      literals: template.split("/").filter((segment) => segment && !segment.startsWith("{")).length,
      responses: operation.responses,
      requestBody: operation.requestBody,
    })),
);

/** The operation a request reaches, if any (unknown routes are the 404/405 of no operation). */
export function operationOf(method: string, path: string): Operation | undefined {
  return operations.filter((operation) => operation.method === method.toUpperCase() && operation.pattern.test(path)).sort((a, b) => b.literals - a.literals)[0];
}

/** Error codes the document lists for an operation's status. */
export const documentedCodes = (operation: Operation, status: number): string[] =>
  operation.responses[status]?.content?.["application/json"]?.schema?.properties?.error?.properties?.code?.enum ?? [];

/**
 * What is wrong with an answer by the document: a status the operation does not list, or an
 * error code not listed under that status. Undefined when it agrees.
 */
export function contractProblem(method: string, path: string, status: number, body: unknown): string | undefined {
  const operation = operationOf(method, path);
  if (!operation) return undefined;
  const where = `${operation.operationId} (${method.toUpperCase()} ${path}) answered ${status}`;
  if (!operation.responses[status]) return `${where}, which the OpenAPI document does not list: ${JSON.stringify(body)}`;
  if (status < 400) return undefined;
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  if (!documentedCodes(operation, status).includes(String(code))) return `${where} with code ${String(code)}, not one the document lists for ${status} (${documentedCodes(operation, status).join(", ")})`;
  return undefined;
}
