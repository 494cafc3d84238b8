import type * as z from "zod/mini";
import { BadRequestError } from "../errors/index.js";
import { validate } from "../validation/index.js";

/** Opaque pagination cursors: base64url JSON, checked against a schema when they come back. */
export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodMiniType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = validate(schema, JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through to the same answer as a well-formed but wrong cursor
  }
  throw new BadRequestError("invalid_cursor", "cursor is not one this API returned");
}
