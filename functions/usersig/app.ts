import { createRoute, z } from "@hono/zod-openapi";
import { authenticate, bearerToken, createSession, deleteSession, PasswordSchema, registerAccount, requireUser, UserIdSchema } from "../../shared/auth/index.js";
import type { Config } from "../../shared/config/index.js";
import type { Db } from "../../shared/db/index.js";
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
    responses: { 201: jsonResponse("Registered", AccountSchema), ...errorResponses(400, 409, 413, 415) },
  }),
  login: createRoute({
    method: "post",
    path: "/v1/sessions",
    summary: "Log in",
    request: { body: jsonBody(CredentialsSchema) },
    responses: { 201: jsonResponse("Logged in", SessionSchema), ...errorResponses(400, 401, 413, 415, 429) },
  }),
  logout: createRoute({
    method: "delete",
    path: "/v1/sessions/current",
    summary: "Log out (the token stops working at once)",
    security: bearerSecurity,
    responses: { 204: { description: "Logged out" }, ...errorResponses(401) },
  }),
  userSig: createRoute({
    method: "post",
    path: "/v1/usersig",
    summary: "UserSig for the caller, for the IM and TRTC SDK login",
    security: bearerSecurity,
    responses: { 200: jsonResponse("UserSig", UserSigSchema), ...errorResponses(401) },
  }),
};

/** The usersig function: accounts, sessions and UserSig issuance. */
export function createUserSigApp(deps: { db: Db; config: Config }) {
  const { db, config } = deps;
  const signer = new UserSigSigner(config.sdkAppId, config.userSigKey);
  const app = createApp({ service: "usersig" });
  const authenticated = requireUser(deps);

  app.openapi(routes.register, async (c) => {
    const { userId, password } = c.req.valid("json");
    const { createdAt } = await registerAccount(db, userId, password);
    return c.json({ userId, createdAt }, 201);
  });

  app.openapi(routes.login, async (c) => {
    const { userId, password } = c.req.valid("json");
    await authenticate(db, userId, password);
    const session = await createSession(db, userId, config.sessionTtlSeconds);
    c.set("userId", userId);
    return c.json({ token: session.token, expiresAt: new Date(session.expiresAtSeconds * 1000).toISOString() }, 201);
  });

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });

  app.openapi({ ...routes.logout, middleware: [authenticated] }, async (c) => {
    await deleteSession(db, bearerToken(c.req.header("authorization")));
    return c.body(null, 204);
  });

  app.openapi({ ...routes.userSig, middleware: [authenticated] }, (c) => {
    const userId = c.var.userId;
    const { userSig, expiresAtSeconds } = signer.issue(userId, config.userSigTtlSeconds);
    return c.json({ sdkAppId: config.sdkAppId, userId, userSig, expiresAt: new Date(expiresAtSeconds * 1000).toISOString() }, 200);
  });

  return app;
}
