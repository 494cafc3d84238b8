/**
 * SCF event shapes. The npm package named in the original design card does not exist, so the
 * events are typed here from the platform's documentation.
 */

/** Function URL (`http` trigger) event; header names arrive lower-cased. */
export interface ScfHttpEvent {
  httpMethod: string;
  path: string;
  headers?: Record<string, string | string[] | undefined>;
  queryString?: Record<string, string | string[] | undefined>;
  body?: string | null;
  /** Present on the legacy API Gateway event (and when base64 encoding is enabled). */
  isBase64Encoded?: boolean;
  /** Legacy API Gateway event fields, tolerated. */
  queryStringParameters?: Record<string, string | undefined>;
  requestContext?: { httpMethod?: string; path?: string; requestId?: string; sourceIp?: string };
}

/** Integrated response both the Function URL and API Gateway understand. */
export interface ScfHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** Timer trigger event. */
export interface ScfTimerEvent {
  Type: "Timer";
  TriggerName: string;
  /** UTC, e.g. `2023-11-14T22:13:00Z`. */
  Time: string;
  Message?: string;
}

export interface ScfContext {
  request_id?: string;
  function_name?: string;
  function_version?: string;
  memory_limit_in_mb?: number;
  time_limit_in_ms?: number;
  namespace?: string;
  tencentcloud_region?: string;
}
