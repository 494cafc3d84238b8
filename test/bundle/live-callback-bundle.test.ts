import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScfHttpEvent, ScfHttpResult } from "../../shared/http/index.js";
import { signCssCallback } from "../../shared/signatures/index.js";
import { api, emulatorUrl, jwtUser } from "../helpers.js";

// The deployable bundle, loaded as SCF's runtime would; it carries its own TRTC, CSS and VOD clients.
const require = createRequire(import.meta.url);
const { main_handler } = require(join(import.meta.dirname, "../../dist/live-callback/index.js")) as {
  main_handler: (event: ScfHttpEvent, context: { request_id: string }) => Promise<ScfHttpResult>;
};
const post = (path: string, body: unknown, queryString: Record<string, string> = {}) =>
  main_handler({ httpMethod: "POST", path, headers: { "content-type": "application/json" }, queryString, body: JSON.stringify(body) }, { request_id: `bundle-${Math.random()}` });

async function liveRoom() {
  const host = await jwtUser("bundle_host");
  const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "bundle" } });
  await api("POST", `/v1/rooms/${created.body.roomId}/live`, { token: host.token });
  return { host, roomId: created.body.roomId as number, streamId: created.body.streamId as string };
}

describe("dist/live-callback/index.js", () => {
  it("completes a VOD upload event from DescribeMediaInfos through its bundled VOD client", async () => {
    const { host, roomId } = await liveRoom();
    const fileId = `bundle-${roomId}`;
    await fetch(`${emulatorUrl()}/_control/media`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ fileId, durationSeconds: 42, sizeBytes: 7 }) });
    const upload = { EventType: "NewFileUpload", FileUploadEvent: { FileId: fileId, MediaBasicInfo: { SourceInfo: { SourceContext: `room=${roomId}` } } } };
    const result = await post("/v1/callbacks/vod", upload, { token: process.env.VOD_CALLBACK_TOKEN! });
    expect([result.statusCode, JSON.parse(result.body)]).toEqual([200, { code: 0 }]);
    const recordings = await api("GET", `/v1/rooms/${roomId}/recordings`, { token: host.token });
    expect(recordings.body.items).toEqual([expect.objectContaining({ fileId, durationSeconds: 42, sizeBytes: 7 })]);
  });

  it("closes a room on a signed moderation block through its bundled CSS client, and refuses a forged one", async () => {
    const { host, roomId, streamId } = await liveRoom();
    const t = Math.floor(Date.now() / 1000) + 600;
    const block = { event_type: 317, streamId, suggestion: "Block", label: "Porn", t };
    const forged = await post("/v1/callbacks/live", { ...block, sign: signCssCallback("not-the-key", t) });
    expect([forged.statusCode, JSON.parse(forged.body).error.code]).toEqual([401, "invalid_callback_signature"]);
    expect((await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body.status).toBe("live");
    const signed = await post("/v1/callbacks/live", { ...block, sign: signCssCallback(process.env.CSS_CALLBACK_KEY!, t) });
    expect(signed.statusCode).toBe(200);
    expect((await api("GET", `/v1/rooms/${roomId}/summary`, { token: host.token })).body.reason).toBe("moderation");
  });
});
