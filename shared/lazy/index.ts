/**
 * What `build` returns, built on the first call and kept: work a cold start should not do until
 * something asks for it (a route's zod schema, `const RoomView = lazy(() => z.object(...))` used
 * as `RoomView()`; an SDK client, whose promise is kept the same way).
 */
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
