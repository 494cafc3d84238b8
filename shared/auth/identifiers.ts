import { z } from "@hono/zod-openapi";

/**
 * IM account ids: at most 32 bytes of letters, digits, `_` and `-` (the characters Cloud IM
 * recommends; others break REST calls and URL paths). Ids starting with `onair_` are kept for
 * onair's own robots (recorder, relay) so they can never collide with a user.
 */
export const userIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
export const reservedUserIdPrefix = "onair_";

export const UserIdSchema = z
  .string()
  .regex(userIdPattern, "must be 1-32 characters of letters, digits, '_' or '-'")
  .refine((id) => !id.toLowerCase().startsWith(reservedUserIdPrefix), `must not start with '${reservedUserIdPrefix}'`)
  .openapi({ example: "alice_01" });

export const PasswordSchema = z
  .string()
  .min(8, "must be at least 8 characters")
  .max(128, "must be at most 128 characters")
  .openapi({ example: "correct horse battery" });
