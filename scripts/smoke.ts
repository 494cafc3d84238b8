/**
 * `npm run smoke -- <base URL>`: after a deploy, walk one user through the app API behind the
 * single domain (docs/deploy.md) and report each step: register, log in, UserSig, create a room
 * (IM group), go live, read it, close it (TRTC, CSS and IM side effects), log out. Exits 1 at the
 * first step that fails, with what to check. It leaves a `smoke_…` account and a closed room.
 *
 *   npm run smoke -- https://api.example.com
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

interface Step {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  expect: number;
  /** What to check when this step fails. */
  hint: string;
  /** Why an answer with the expected status still fails, if it does. */
  fault?: (body: any) => string | undefined;
  /** What to show of a passing answer. */
  note?: (body: any) => string;
}

export interface StepReport {
  name: string;
  ok: boolean;
  status: number;
  ms: number;
  detail: string;
}

/** The answer's JSON, or undefined for anything else (a proxy's HTML error page, an empty 204). */
function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Run the walk-through against `baseUrl`, calling `report` after each step; true when every step passed. */
export async function smoke(baseUrl: string, report: (step: StepReport) => void): Promise<boolean> {
  const base = baseUrl.replace(/\/+$/, "");
  const userId = `smoke_${randomBytes(5).toString("hex")}`;
  const password = randomBytes(12).toString("base64url");
  let token = "";
  let roomId = "";
  const steps: (() => Step)[] = [
    () => ({ name: "register", method: "POST", path: "/v1/accounts", body: { userId, password }, expect: 201, hint: "usersig is reachable at /v1/accounts; DynamoDB region, table and IAM keys" }),
    () => ({ name: "log in", method: "POST", path: "/v1/sessions", body: { userId, password }, expect: 201, hint: "usersig's DynamoDB access", fault: (body) => ((token = body.token) ? undefined : "no token") }),
    () => ({ name: "UserSig", method: "POST", path: "/v1/usersig", expect: 200, hint: "TENCENT_SDKAPPID and IM_SDK_SECRET_KEY", fault: (body) => (body.userSig ? undefined : "no userSig"), note: (body) => `sdkAppId ${body.sdkAppId}` }),
    () => ({ name: "create room", method: "POST", path: "/v1/rooms", body: { title: "smoke test" }, expect: 201, hint: "rooms is routed for /v1/rooms; a 502 means IM refused: TENCENT_SDKAPPID, IM_SDK_SECRET_KEY, IM_ADMIN_USER", fault: (body) => ((roomId = String(body.roomId)) !== "undefined" ? undefined : "no roomId"), note: (body) => `room ${roomId}, group ${body.groupId}` }),
    () => ({ name: "go live", method: "POST", path: `/v1/rooms/${roomId}/live`, expect: 200, hint: "rooms; with RECORDING_ENABLED, the role's TRTC permission", fault: (body) => (body.status === "live" ? undefined : `status ${body.status}`) }),
    () => ({ name: "read room", method: "GET", path: `/v1/rooms/${roomId}`, expect: 200, hint: "rooms", fault: (body) => (body.playUrls ? undefined : "no play URLs"), note: (body) => `play URLs ${Object.keys(body.playUrls).join(", ")}` }),
    () => ({
      name: "close room",
      method: "POST",
      path: `/v1/rooms/${roomId}/close`,
      expect: 200,
      hint: "pending side effects mean a TRTC, CSS or IM call failed: the execution role's CAM policy and the function's logs",
      fault: (body) => (body.status !== "closed" ? `status ${body.status}` : body.pendingEffects ? `${body.pendingEffects} side effects pending` : undefined),
      note: (body) => `${body.summary?.durationSeconds ?? "?"} s live, no side effect pending`,
    }),
    () => ({ name: "log out", method: "DELETE", path: "/v1/sessions/current", expect: 204, hint: "usersig" }),
  ];
  for (const makeStep of steps) {
    const step = makeStep();
    const started = performance.now();
    let status = 0;
    try {
      const response = await fetch(base + step.path, {
        method: step.method,
        headers: { ...(step.body ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: step.body ? JSON.stringify(step.body) : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      status = response.status;
      const text = await response.text();
      const body = parseJson(text);
      const answer = body?.error?.code ? `${body.error.code} ${body.error.message}` : text.slice(0, 80);
      const fault = status !== step.expect ? `expected ${step.expect}${answer ? `, got: ${answer}` : ""}` : step.fault?.(body);
      report({ name: step.name, ok: !fault, status, ms: Math.round(performance.now() - started), detail: fault ? `${fault}; check ${step.hint}` : (step.note?.(body) ?? "") });
      if (fault) return false;
    } catch (error) {
      report({ name: step.name, ok: false, status, ms: Math.round(performance.now() - started), detail: `${(error as Error).message}; check ${step.hint}` });
      return false;
    }
  }
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const baseUrl = process.argv[2];
  if (!baseUrl || !/^https?:\/\//.test(baseUrl)) {
    console.error("usage: npm run smoke -- <base URL>   (the single domain in front of the functions, docs/deploy.md)");
    process.exit(2);
  }
  console.log(`smoke test against ${baseUrl}`);
  const passed = await smoke(baseUrl, (step) => console.log(`  ${step.ok ? "ok  " : "FAIL"} ${step.name.padEnd(12)} ${String(step.status).padStart(3)} ${String(step.ms).padStart(5)} ms  ${step.detail}`.trimEnd()));
  console.log(passed ? "all steps passed" : "stopped at the first failure");
  process.exit(passed ? 0 : 1);
}
