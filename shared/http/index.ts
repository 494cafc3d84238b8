export { createScfHandler, eventToRequest, responseToResult, type RequestBindings } from "./adapter.js";
export { createApp, describeIssues, errorResponse, maxBodyBytes, type AppEnv } from "./app.js";
export { adminErrors, bearerErrors, ErrorCodeSchema, errorCodes, errorResponses, ErrorSchema, jsonBodyErrors, replayedHeader, statusOf, Timestamp, type ErrorCode, type ErrorStatus } from "./contract.js";
export type { ScfContext, ScfHttpEvent, ScfHttpResult, ScfTimerEvent } from "./scf.js";
export { decodeCursor, encodeCursor } from "./cursor.js";
export { adminSecurity, bearerSecurity, jsonBody, jsonResponse, noSecurity, PageQuerySchema, pageOf } from "./schemas.js";
