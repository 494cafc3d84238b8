import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLiveCallbackApp } from "../../functions/live-callback/app.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { signCssCallback, signTrtcCallback } from "../../shared/signatures/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { createVodMedia } from "../../shared/tencent/vod.js";
import { api, jwtUser } from "../helpers.js";

const config = getConfig();
const app = createLiveCallbackApp({ db: createDb(config), config, tencent: createTencentDeps(config), vod: createVodMedia(config) });

/** Any JSON value, or a field left out. */
const anything = fc.oneof(fc.jsonValue(), fc.constant(undefined));
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e300, -1, 0, 1_700_000_000), fc.integer().map(String));

describe("platform callback fuzzing", () => {
  it("never answers 500 to a signed CSS, TRTC or VOD event, and what it stores always reads back", async () => {
    const host = await jwtUser("fuzz_host");
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "fuzzed" } });
    await api("POST", `/v1/rooms/${created.body.roomId}/live`, { token: host.token });
    const { roomId, streamId } = created.body as { roomId: number; streamId: string };
    const stream = fc.constantFrom(streamId, `${config.sdkAppId}_${roomId}_guest_main`, "elsewhere", 7);

    const css = fc.record(
      {
        event_type: fc.constantFrom(0, 1, 100, 200, 317, "100", 999),
        stream_id: stream,
        streamId: stream,
        event_time: number,
        file_id: fc.oneof(fc.string(), anything),
        start_time: number,
        end_time: number,
        duration: number,
        file_size: number,
        video_url: anything,
        suggestion: fc.constantFrom("Block", "Review", "Pass", 3),
      },
      { requiredKeys: ["event_type"] },
    );
    const trtc = fc.record({ EventGroupId: fc.constantFrom(1, 3, "3"), EventType: fc.constantFrom(103, 302, 311, "302"), EventInfo: fc.record({ RoomId: fc.constantFrom(roomId, String(roomId), "x"), TaskId: anything, Payload: anything }, { requiredKeys: [] }) }, { requiredKeys: [] });
    const vod = fc.record(
      {
        EventType: fc.constantFrom("NewFileUpload", "ProcedureStateChanged", 5),
        FileUploadEvent: fc.record(
          {
            FileId: fc.oneof(fc.string({ minLength: 1 }), anything),
            MediaBasicInfo: fc.record({ CreateTime: fc.oneof(fc.string(), number), MediaUrl: anything, SourceInfo: fc.constant({ SourceContext: `room=${roomId}` }) }, { requiredKeys: [] }),
            MetaData: fc.oneof(fc.constant(null), fc.record({ Duration: number, Size: number }, { requiredKeys: [] })),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );

    const t = () => Math.floor(Date.now() / 1000) + 600;
    const event = fc.oneof(
      css.map((body) => ({ path: "/v1/callbacks/live", headers: {}, body: JSON.stringify({ ...body, t: t(), sign: signCssCallback(config.cssCallbackKey, t()) }) })),
      trtc.map((body) => JSON.stringify(body)).map((raw) => ({ path: "/v1/callbacks/trtc", headers: { sign: signTrtcCallback(config.trtcCallbackKey, raw) }, body: raw })),
      vod.map((body) => ({ path: `/v1/callbacks/vod?token=${encodeURIComponent(config.vodCallbackToken)}`, headers: {}, body: JSON.stringify(body) })),
    );
    await fc.assert(
      fc.asyncProperty(event, async ({ path, headers, body }) => {
        const response = await app.request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
        expect([path, response.status]).toEqual([path, expect.any(Number)]);
        // 502 is VOD itself not answering a lookup; anything else at or above 500 is onair's fault.
        if (response.status >= 500) expect([response.status, await response.text()]).toEqual([502, expect.stringContaining("upstream_unavailable")]);
        const recordings = await api("GET", `/v1/rooms/${roomId}/recordings?limit=100`, { token: host.token });
        expect(recordings.status).toBe(200);
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
