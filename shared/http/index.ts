export { createScfHandler, eventToRequest, responseToResult, type RequestBindings } from "./adapter.js";
export { createApp, maxBodyBytes } from "./app.js";
export { adminErrors, bearerErrors, errorCodes, errorResponses, jsonBodyErrors, replayedHeader, statusOf, Timestamp, type ErrorCode, type ErrorStatus } from "./contract.js";
export { describeIssues, errorResponse } from "./envelope.js";
export { createRoute, OpenApiApp, type AppEnv, type RouteDefinition, type RouteInput, type RouteRequest } from "./route.js";
export type { ScfContext, ScfHttpEvent, ScfHttpResult, ScfTimerEvent } from "./scf.js";
export { decodeCursor, encodeCursor } from "./cursor.js";
export { adminSecurity, bearerSecurity, jsonBody, jsonResponse, noSecurity, PageQuerySchema, pageOf, securitySchemes } from "./schemas.js";
