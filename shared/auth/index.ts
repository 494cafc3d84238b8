export { authenticate, registerAccount, loginWindowSeconds, maxFailedLoginsPerWindow } from "./accounts.js";
export { PasswordSchema, UserIdSchema, reservedUserIdPrefix, userIdPattern } from "./identifiers.js";
export { bearerToken, requireAdminKey, requireUser } from "./middleware.js";
export { hashPassword, verifyPassword } from "./passwords.js";
export { createSession, deleteSession, findSession, type Session } from "./sessions.js";
