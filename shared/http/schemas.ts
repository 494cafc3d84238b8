import * as z from "zod/mini";
import { lazy } from "../lazy/index.js";

type Headers = Record<string, { description: string; schema: { type: "string" | "integer"; [key: string]: unknown } }>;

/** JSON request body, required (a missing body is a 400, not an empty object), with an example the document shows. */
export const jsonBody = <T extends z.ZodMiniType>(schema: T, example: z.input<T>) => ({ required: true as const, content: { "application/json": { schema, example } } });

/** JSON response with the example the document shows (typed, so it keeps up with the schema). */
export const jsonResponse = <T extends z.ZodMiniType>(description: string, schema: T, example: z.output<T>, headers?: Headers) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/json": { schema, example } },
});

export const bearerSecurity = [{ bearerAuth: [] }];
export const adminSecurity = [{ adminKeyHeader: [] }];
/** Open routes say so: no credentials are read. */
export const noSecurity = [];

/** The schemes `bearerSecurity` and `adminSecurity` name. */
export const securitySchemes = {
  bearerAuth: { type: "http", scheme: "bearer" },
  adminKeyHeader: { type: "apiKey", in: "header", name: "X-Admin-Key" },
};

/** `?limit=&cursor=` of every list. @default limit 20, at most 100 */
export const PageQuerySchema = lazy(() => z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100), z.meta({ example: 20 })), 20),
  cursor: z.optional(z.string().check(z.maxLength(512))).check(z.meta({ description: "`nextCursor` of the previous page" })),
}));

export const pageOf = <T extends z.ZodMiniType>(item: T) => z.object({ items: z.array(item), nextCursor: z.nullable(z.string()) });
