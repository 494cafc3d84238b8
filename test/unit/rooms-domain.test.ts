import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { heatOf, liveEndedAt, orderKey, playUrls, pushUrl, roomIdOfStream, shardOf, streamIdFor, sumCounts, summarize } from "../../shared/rooms/index.js";

describe("room domain", () => {
  it("signs push URLs as the reference's vector (txTime hex 6553FF10)", () => {
    const url = pushUrl({ pushDomain: "push.example.com", pushKey: "myPushKey", streamId: "room_1001_anchor", expiresAtSeconds: 1700003600 });
    expect(url).toBe("rtmp://push.example.com/live/room_1001_anchor?txSecret=3dbb9afbdc00d3101f70a08d4f5e28b7&txTime=6553FF10");
  });

  it("finds the room of every stream TRTC relays for it, and of no other app's", () => {
    expect(roomIdOfStream(streamIdFor(1400000000, 100001, "host_1"), 1400000000)).toBe(100001);
    expect(roomIdOfStream("1400000000_100001_guest%40mail_main", 1400000000)).toBe(100001);
    expect(roomIdOfStream("1400000000_100001_host_1_aux", 1400000000)).toBe(100001);
    expect(roomIdOfStream("1400000001_100001_host_1_main", 1400000000)).toBeUndefined();
    expect(roomIdOfStream("1400000000_100001_host_1", 1400000000)).toBeUndefined();
    expect(roomIdOfStream("obs_stream", 1400000000)).toBeUndefined();
  });

  it("builds the three play URLs", () => {
    expect(playUrls("play.example.com", "s1")).toEqual({
      rtmp: "rtmp://play.example.com/live/s1",
      flv: "https://play.example.com/live/s1.flv",
      hls: "https://play.example.com/live/s1.m3u8",
    });
  });

  it("computes heat as 10 × distinct viewers + likes + gift heat", () => {
    expect(heatOf({ totalViewers: 3, likes: 12, giftHeat: 50 })).toBe(92);
  });

  it("sums counter shards exactly and never shows negative viewers", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ online: fc.integer({ min: -5, max: 50 }), likes: fc.nat(1000) }), { maxLength: 16 }), (shards) => {
        const total = sumCounts(shards);
        expect(total.likes).toBe(shards.reduce((sum, s) => sum + s.likes, 0));
        expect(total.online).toBe(Math.max(0, shards.reduce((sum, s) => sum + s.online, 0)));
      }),
    );
  });

  it("summarizes from going live, taking the larger of the seen peak and the current online count", () => {
    const counts = { online: 4, totalViewers: 9, likes: 3, giftHeat: 10, giftIncome: 70 };
    expect(summarize({ createdAt: 0, liveAt: 60_000, peakViewers: 7 }, counts, 180_000)).toEqual({
      durationSeconds: 120,
      peakViewers: 7,
      totalViewers: 9,
      likes: 3,
      giftIncome: 70,
      heat: 103,
    });
    expect(summarize({ createdAt: 0 }, counts, 5_000).peakViewers).toBe(4);
  });

  it("ends a stale live at the last heartbeat and an ended stream at its end, never outside the live", () => {
    const room = { createdAt: 0, liveAt: 60_000, lastHeartbeatAt: 150_000, streamChangedAt: 140_000 };
    expect(liveEndedAt(room, "stale", 200_000)).toBe(150_000);
    expect(liveEndedAt(room, "stream_ended", 200_000)).toBe(140_000);
    expect(liveEndedAt(room, "host", 200_000)).toBe(200_000);
    expect(liveEndedAt(room, "moderation", 200_000)).toBe(200_000);
    // A heartbeat stamped before going live, or a clock ahead of the closer's, stays in range.
    expect(liveEndedAt({ ...room, lastHeartbeatAt: 10_000 }, "stale", 200_000)).toBe(60_000);
    expect(liveEndedAt({ ...room, lastHeartbeatAt: 250_000 }, "stale", 200_000)).toBe(200_000);
    expect(liveEndedAt({ createdAt: 5_000 }, "stale", 200_000)).toBe(200_000);
  });

  it("orders index keys numerically and keeps shards in range", () => {
    fc.assert(
      fc.property(fc.nat(1e12), fc.nat(1e12), fc.integer({ min: 1, max: 4e9 }), (a, b, roomId) => {
        expect(orderKey(a, roomId) < orderKey(b, roomId)).toBe(a < b);
        const shard = shardOf(String(roomId), 10);
        expect(shard).toBeGreaterThanOrEqual(0);
        expect(shard).toBeLessThan(10);
      }),
    );
  });
});
