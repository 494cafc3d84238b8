import { randomBytes } from "node:crypto";
import { inject } from "vitest";

/** A user id no other test uses. */
export const uniqueUserId = (prefix = "u") => `${prefix}_${randomBytes(6).toString("hex")}`;

export const stackUrl = () => inject("stackUrl");

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Call the local stack over HTTP as an app would. */
export async function api<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(stackUrl() + path, { method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Register and log in a fresh user; returns its id, password and session token. */
export async function newUser(prefix = "u"): Promise<{ userId: string; password: string; token: string }> {
  const userId = uniqueUserId(prefix);
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const registered = await api("POST", "/v1/accounts", { body: { userId, password } });
  if (registered.status !== 201) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  const login = await api("POST", "/v1/sessions", { body: { userId, password } });
  if (login.status !== 201) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return { userId, password, token: login.body.token };
}
