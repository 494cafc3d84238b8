export { authenticate, registerAccount, reservedAccounts, loginWindowSeconds, maxFailedLoginsPerWindow, maxLoginsPerIpPerWindow } from "./accounts.js";
export { defaultImAdminUser, PasswordSchema, reservedIdentityRule, UserIdSchema, reservedUserIdPrefix, userIdPattern } from "./identifiers.js";
export { bearerToken, requireAdminKey, requireUser, resolveCaller, type Caller } from "./middleware.js";
export { hashPassword, verifyPassword } from "./passwords.js";
export { createSession, deleteSession, findSession, revokeJwt, type Session } from "./sessions.js";
export { takeSlot, type Limit, type Slot } from "./rate-limit.js";
