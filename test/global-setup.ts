import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { freePort } from "../scripts/local/dynamodb-local.js";
import { startStack } from "../scripts/local/stack.js";
import { testJwtSecret } from "./jwt-secret.js";

declare module "vitest" {
  export interface ProvidedContext {
    stackUrl: string;
    emulatorUrl: string;
    /** Port of the browser test's page server; `http://127.0.0.1:<port>` is on CORS_ORIGINS. */
    pagePort: number;
  }
}

/**
 * Start the real local stack once: DynamoDB Local, the emulator and every function on one
 * HTTP port. Workers start after this and inherit its environment (DYNAMODB_ENDPOINT, keys),
 * so tests that import a function directly talk to the same DynamoDB.
 */
export default async function setup(project: TestProject) {
  delete process.env.http_proxy;
  delete process.env.HTTP_PROXY;
  delete process.env.DYNAMODB_ENDPOINT;
  process.env.LOG_LEVEL ??= "warn";
  // App identity provider mode lets tests make many users without paying two scrypts each.
  process.env.AUTH_JWT_SECRET ??= testJwtSecret;
  // The suite registers many users from one address; the limit itself is tested with its own setting.
  process.env.REGISTRATIONS_PER_IP_PER_HOUR ??= "1000";
  // The browser test serves its page here; the same page from http://localhost:<port> is not listed.
  const pagePort = await freePort();
  process.env.CORS_ORIGINS ??= `http://127.0.0.1:${pagePort}`;
  // The fault proxy runs with no faults; the fault suite switches faults on for its own keys only.
  const stack = await startStack({ port: 0, emulatorPort: 0, sweepIntervalSeconds: 0, dynamodbFaults: "" });
  project.provide("stackUrl", stack.url);
  project.provide("emulatorUrl", stack.emulatorUrl);
  project.provide("pagePort", pagePort);
  return () => stack.stop();
}
