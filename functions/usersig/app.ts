import { createRoute, z } from "@hono/zod-openapi";
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
import { BadRequestError, ForbiddenError } from "../../shared/errors/index.js";
import { bearerSecurity, createApp, errorResponses, jsonBody, jsonResponse } from "../../shared/http/index.js";
import { UserSigSigner } from "../../shared/tencent/index.js";

const CredentialsSchema = z.strictObject({ userId: UserIdSchema, password: PasswordSchema }).openapi("Credentials");

const AccountSchema = z.object({ userId: z.string(), createdAt: z.string() }).openapi("Account");
const SessionSchema = z
  .object({ token: z.string(), expiresAt: z.string().openapi({ example: "2026-12-01T00:00:00.000Z" }) })
  .openapi("Session");
const UserSigSchema = z
  .object({ sdkAppId: z.number().int(), userId: z.string(), userSig: z.string(), expiresAt: z.string() })
  .openapi("UserSig");


const routes = {
  register: createRoute({
    method: "post",
    path: "/v1/accounts",
    summary: "Register an account",
    request: { body: jsonBody(CredentialsSchema) },
    responses: { 201: jsonResponse("Registered", AccountSchema), ...errorResponses(400, 409, 413, 415, 429) },
  }),
  login: createRoute({
    method: "post",
    path: "/v1/sessions",
    summary: "Log in",
    request: { body: jsonBody(CredentialsSchema) },
    responses: { 201: jsonResponse("Logged in", SessionSchema), ...errorResponses(400, 401, 403, 413, 415, 429) },
  }),
  logout: createRoute({
    method: "delete",
    path: "/v1/sessions/current",
    summary: "Log out: the session token, or the app JWT until its exp, stops working at once",
    security: bearerSecurity,
    responses: { 204: { description: "Logged out" }, ...errorResponses(401, 403) },
  }),
  userSig: createRoute({
    method: "post",
    path: "/v1/usersig",
    summary: "UserSig for the caller, for the IM and TRTC SDK login",
    security: bearerSecurity,
    responses: { 200: jsonResponse("UserSig", UserSigSchema), ...errorResponses(401, 403) },
  }),
};

/** The usersig function: accounts, sessions and UserSig issuance. */
export function createUserSigApp(deps: { db: Db; config: Config }) {
  const { db, config } = deps;
  const signer = new UserSigSigner(config.sdkAppId, config.userSigKey);
  const app = createApp({ service: "usersig", corsOrigins: config.corsOrigins });

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

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });

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

