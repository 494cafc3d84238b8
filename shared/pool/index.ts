/**
 * Run `task` over `items`, at most `limit` at once, in order, starting none once the wall clock
 * passes `stopStartingAt` (what is left waits for the next run). `task` must not throw: the
 * sweeper's jobs log and count their own failures. Returns how many items were started.
 */
export async function runPooled<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>, stopStartingAt = Infinity): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && Date.now() < stopStartingAt) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return next;
}
