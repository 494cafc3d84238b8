import { z } from "@hono/zod-openapi";

/** JSON request body, required (a missing body is a 400, not an empty object). */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { "application/json": { schema } } });

export const bearerSecurity = [{ bearerAuth: [] }];

/** `?limit=&cursor=` of every list. @default limit 20, at most 100 */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z.string().max(512).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
