import * as z from "zod/mini";
import { lazy } from "../lazy/index.js";

/**
 * IM account ids: at most 32 bytes of letters, digits, `_` and `-` (the characters Cloud IM
 * recommends; others break REST calls and URL paths).
 */
export const userIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

/** Ids starting with this are onair's own robots on Tencent Cloud (the recorder, `onair_recorder_<room>`). */
export const reservedUserIdPrefix = "onair_";

/** The admin account every IM app is created with; reserved even when onair is told to use another. */
export const defaultImAdminUser = "administrator";

export const UserIdSchema = lazy(() => z.string().check(z.regex(userIdPattern, "must be 1-32 characters of letters, digits, '_' or '-'"), z.meta({ example: "alice_01" })));

export const PasswordSchema = lazy(() => z
  .string()
  .check(z.minLength(8, "must be at least 8 characters"), z.maxLength(128, "must be at most 128 characters"), z.meta({ example: "correct horse battery" })));

/**
 * Why `userId` may never belong to a user, or undefined when it may. The platform trusts these
 * identities: a UserSig for an IM admin is accepted by the IM REST API as the app's admin, and
 * the recorder robots enter every recorded TRTC room. Compared without regard to case, so
 * `Administrator` cannot pose as `administrator` in a member list either.
 */
export function reservedIdentityRule(userId: string, imAdminUsers: readonly string[]): string | undefined {
  const id = userId.toLowerCase();
  if (id === defaultImAdminUser || imAdminUsers.some((admin) => admin.toLowerCase() === id)) {
    return `'${userId}' is reserved: it is an IM administrator account`;
  }
  // JSON parsers and object maps treat this key as the prototype, not as data.
  if (id === "__proto__") return `'${userId}' is reserved: JavaScript objects cannot hold it as a key`;
  if (id.startsWith(reservedUserIdPrefix)) return `'${userId}' is reserved: ids starting with '${reservedUserIdPrefix}' belong to onair's own robots`;
  return undefined;
}
