import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type * as z from "zod/mini";

/** The error envelope every non-2xx response carries. */
export function errorResponse(c: Context, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json({ error: { code, message } }, status as ContentfulStatusCode);
}

/** Describe a failed schema check so the caller knows which fields to fix (up to three). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  if (issues.length === 0) return "request is invalid";
  return issues.slice(0, 3).map(describeIssue).join("; ");
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const where = field ? ` in ${field}` : "";
    return `unknown field${issue.keys.length > 1 ? "s" : ""}${where}: ${issue.keys.join(", ")}`;
  }
  if (!field) return issue.code === "invalid_type" ? "request body must be a JSON object" : issue.message;
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) return `${field} is required`;
  return `${field}: ${issue.message}`;
}
