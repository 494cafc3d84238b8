import { z } from "@hono/zod-openapi";

type Headers = Record<string, { description: string; schema: { type: "string" | "integer"; [key: string]: unknown } }>;

/** JSON request body, required (a missing body is a 400, not an empty object), with an example the document shows. */
export const jsonBody = <T extends z.ZodType>(schema: T, example: z.input<T>) => ({ required: true, content: { "application/json": { schema, example } } });

/** JSON response with the example the document shows (typed, so it keeps up with the schema). */
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T, example: z.output<T>, headers?: Headers) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/json": { schema, example } },
});

export const bearerSecurity = [{ bearerAuth: [] }];
export const adminSecurity = [{ adminKeyHeader: [] }];
/** Open routes say so: no credentials are read. */
export const noSecurity = [];

/** `?limit=&cursor=` of every list. @default limit 20, at most 100 */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z.string().max(512).optional().openapi({ description: "`nextCursor` of the previous page" }),
});

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
