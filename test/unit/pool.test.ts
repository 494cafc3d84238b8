import { describe, expect, it } from "vitest";
import { runPooled } from "../../shared/pool/index.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("runPooled", () => {
  it("runs every item in order, never more than the limit at once", async () => {
    let inFlight = 0;
    let most = 0;
    const startedOrder: number[] = [];
    const started = await runPooled(Array.from({ length: 20 }, (_, i) => i), 3, async (item) => {
      startedOrder.push(item);
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      inFlight--;
    });
    expect(started).toBe(20);
    expect(startedOrder).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(3);
  });

  it("starts nothing once its deadline has passed, and says how many it started", async () => {
    const seen: number[] = [];
    expect(await runPooled([1, 2, 3], 2, async (item) => void seen.push(item), Date.now() - 1)).toBe(0);
    expect(seen).toEqual([]);
    const deadline = Date.now() + 30;
    const started = await runPooled(Array.from({ length: 1000 }, (_, i) => i), 1, async (item) => {
      seen.push(item);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }, deadline);
    expect(started).toBe(seen.length);
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThan(1000);
  });

  it("handles an empty list", async () => {
    expect(await runPooled([], 4, async () => {})).toBe(0);
  });
});
