/**
 * AWS Lambda's per-invocation store, read by the SDK's recursion-detection middleware for the
 * X-Ray trace id. SCF is not Lambda, and the functions' requests skip the SDK's middleware
 * (shared/db/document.ts); were one to run it, it would find no store and add no trace header,
 * as outside Lambda.
 */
export const InvokeStore = { getInstanceAsync: async () => undefined };
