export { createScfHandler, eventToRequest, responseToResult, type RequestBindings } from "./adapter.js";
export { createApp, describeIssues, errorResponse, errorResponses, ErrorSchema, maxBodyBytes, type AppEnv } from "./app.js";
export type { ScfContext, ScfHttpEvent, ScfHttpResult, ScfTimerEvent } from "./scf.js";
export { decodeCursor, encodeCursor } from "./cursor.js";
export { bearerSecurity, jsonBody, jsonResponse, PageQuerySchema, pageOf } from "./schemas.js";
