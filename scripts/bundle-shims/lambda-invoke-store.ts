/**
 * AWS Lambda's per-invocation store, read by the SDK's recursion-detection middleware for the
 * X-Ray trace id. SCF is not Lambda and shared/db/client.ts removes that middleware; were it
 * back, it would find no store and add no trace header, as outside Lambda.
 */
export const InvokeStore = { getInstanceAsync: async () => undefined };
