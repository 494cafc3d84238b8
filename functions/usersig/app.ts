import * as z from "zod/mini";
import {
  authenticate,
  bearerToken,
  createSession,
  deleteSession,
  PasswordSchema,
  registerAccount,
  reservedIdentityRule,
  resolveCaller,
  revokeJwt,
  UserIdSchema,
} from "../../shared/auth/index.js";
import type { Config } from "../../shared/config/index.js";
import type { Db } from "../../shared/db/index.js";
import { serveDocs, type DocsSource } from "../../shared/docs/index.js";
import { BadRequestError, ForbiddenError } from "../../shared/errors/index.js";
import { bearerErrors, bearerSecurity, createApp, createRoute, errorResponses, jsonBody, jsonBodyErrors, jsonResponse, noSecurity, Timestamp } from "../../shared/http/index.js";
import { UserSigSigner } from "../../shared/tencent/index.js";
import { lazy } from "../../shared/lazy/index.js";

const CredentialsSchema = lazy(() => z.strictObject({ userId: UserIdSchema(), password: PasswordSchema() }).check(z.meta({ id: "Credentials" })));
const credentials = { userId: "alice", password: "correct horse" };

const AccountSchema = lazy(() => z.object({ userId: z.string(), createdAt: Timestamp() }).check(z.meta({ id: "Account" })));
const SessionSchema = lazy(() => z.object({ token: z.string(), expiresAt: Timestamp() }).check(z.meta({ id: "Session" })));
const UserSigSchema = lazy(() => z
  .object({ sdkAppId: z.number().check(z.int()), userId: z.string(), userSig: z.string(), expiresAt: Timestamp().check(z.meta({ description: "the signature's TLS.time + TLS.expire" })) })
  .check(z.meta({ id: "UserSig" })));

const routes = {
  register: createRoute({
    method: "post",
    path: "/v1/accounts",
    operationId: "register",
    summary: "Register an account",
    security: noSecurity,
    request: () => ({ body: jsonBody(CredentialsSchema(), credentials) }),
    responses: () => ({
      201: jsonResponse("Registered", AccountSchema(), { userId: "alice", createdAt: "2026-11-25T18:00:00.000Z" }),
      ...errorResponses(...jsonBodyErrors, "reserved_user_id", "user_exists", "too_many_registrations", "store_unavailable"),
    }),
  }),
  login: createRoute({
    method: "post",
    path: "/v1/sessions",
    operationId: "login",
    summary: "Log in",
    security: noSecurity,
    request: () => ({ body: jsonBody(CredentialsSchema(), credentials) }),
    responses: () => ({
      201: jsonResponse("Logged in", SessionSchema(), { token: "3q2-7wEXAMPLEtokenEXAMPLEtokenEXAMPLEtok", expiresAt: "2026-12-02T18:00:00.000Z" }),
      ...errorResponses(...jsonBodyErrors, "invalid_credentials", "reserved_identity", "too_many_login_attempts", "store_unavailable"),
    }),
  }),
  logout: createRoute({
    method: "delete",
    path: "/v1/sessions/current",
    operationId: "logout",
    summary: "Log out: the session token, or the app JWT until its exp, stops working at once",
    security: bearerSecurity,
    responses: () => ({ 204: { description: "Logged out" }, ...errorResponses(...bearerErrors) }),
  }),
  userSig: createRoute({
    method: "post",
    path: "/v1/usersig",
    operationId: "issueUserSig",
    summary: "UserSig for the caller, for the IM and TRTC SDK login",
    security: bearerSecurity,
    responses: () => ({
      200: jsonResponse("UserSig", UserSigSchema(), { sdkAppId: 1400000000, userId: "alice", userSig: "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1PyUvPSMvNSQTJGBgZQBcUp2YkFBZkpSlaGRibmZhYGOkqpFQWZRamZAA", expiresAt: "2026-11-26T18:00:00.000Z" }),
      ...errorResponses(...bearerErrors),
    }),
  }),
};

/**
 * The usersig function: accounts, sessions and UserSig issuance; with DOCS_ENABLED and a docs
 * source, also the API docs page and `/openapi.json`.
 */
export function createUserSigApp(deps: { db: Db; config: Config; docs?: DocsSource }) {
  const { db, config } = deps;
  const signer = new UserSigSigner(config.sdkAppId, config.userSigKey);
  const app = createApp({ service: "usersig", corsOrigins: config.corsOrigins });
  if (config.docsEnabled && deps.docs) serveDocs(app, deps.docs);

  app.openapi(routes.register, async (c) => {
    const { userId, password } = c.req.valid("json");
    const reserved = reservedIdentityRule(userId, config.imAdminUsers);
    if (reserved) throw new BadRequestError("reserved_user_id", `userId: ${reserved}`);
    const { createdAt } = await registerAccount(db, userId, password, { clientIp: c.env?.clientIp, perIpPerHour: config.registrationsPerIpPerHour });
    return c.json({ userId, createdAt }, 201);
  });

  app.openapi(routes.login, async (c) => {
    const { userId, password } = c.req.valid("json");
    const reserved = reservedIdentityRule(userId, config.imAdminUsers);
    if (reserved) throw new ForbiddenError("reserved_identity", `${reserved}; it cannot log in`);
    await authenticate(db, userId, password, c.env?.clientIp);
    const session = await createSession(db, userId, config.sessionTtlSeconds);
    c.set("userId", userId);
    return c.json({ token: session.token, expiresAt: new Date(session.expiresAtSeconds * 1000).toISOString() }, 201);
  });

  app.openapi(routes.logout, async (c) => {
    const token = bearerToken(c.req.header("authorization"));
    const caller = await resolveCaller(deps, token);
    c.set("userId", caller.userId);
    if (caller.kind === "jwt") await revokeJwt(db, token, caller.expiresAtSeconds);
    else await deleteSession(db, token);
    return c.body(null, 204);
  });

  app.openapi(routes.userSig, async (c) => {
    const { userId } = await resolveCaller(deps, bearerToken(c.req.header("authorization")));
    c.set("userId", userId);
    const { userSig, expiresAtSeconds } = signer.issue(userId, config.userSigTtlSeconds);
    return c.json({ sdkAppId: config.sdkAppId, userId, userSig, expiresAt: new Date(expiresAtSeconds * 1000).toISOString() }, 200);
  });

  return app;
}

