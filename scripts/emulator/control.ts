import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Callbacks } from "./callbacks.js";
import type { Fault } from "./faults.js";
import type { createIm } from "./im.js";
import { checkLimits, type ImLimits } from "./limits.js";
import { TrtcFailure, type Trtc, type TrtcRole } from "./trtc.js";
import { ImFailure, send, type EmulatedStream, type EmulatorContext, type Forgery, type Json } from "./types.js";

/**
 * The control API under `/_control` for tests and the local stack: a client's group message,
 * platform callbacks on demand, streams and VOD files, TRTC room entry, IM's limits, DynamoDB
 * and Tencent faults.
 */
export function createControl(ctx: EmulatorContext, deps: { im: ReturnType<typeof createIm>; callbacks: Callbacks; trtc: Trtc; limits: ImLimits }) {
  const { options, state, faults } = ctx;
  const { im, callbacks, trtc, limits } = deps;

  async function handle(method: string, path: string, raw: Buffer, response: ServerResponse) {
    const body = raw.length > 0 ? (JSON.parse(raw.toString("utf8")) as Json) : {};
    const groupMessage = /^\/_control\/groups\/([^/]+)\/messages$/.exec(path);
    if (method === "POST" && groupMessage) {
      try {
        return send(response, 200, await im.clientSendsGroupMessage(decodeURIComponent(groupMessage[1]!), body));
      } catch (error) {
        if (error instanceof ImFailure) return send(response, 404, { error: error.message, code: error.code });
        throw error;
      }
    }
    if (method === "POST" && path === "/_control/callbacks/im") {
      return send(response, 200, await callbacks.fireImCallback(String(body.command), (body.body ?? {}) as Json, body.forge as Forgery | undefined));
    }
    if (method === "POST" && path === "/_control/streams") {
      const streamName = String(body.streamName);
      state.onlineStreams = state.onlineStreams.filter((s) => s.streamName !== streamName);
      const stream: EmulatedStream = {
        streamName,
        appName: String(body.appName ?? "live"),
        domainName: String(body.domainName ?? ""),
        // `publishedSecondsAgo` lets tests push a stream that has been up for a while.
        publishTime: new Date(Date.now() - Number(body.publishedSecondsAgo ?? 0) * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
      };
      state.onlineStreams.push(stream);
      const callback = body.callback && options.liveCallbacks ? await callbacks.fireLiveCallback("live", callbacks.streamEvent(stream, 1)) : undefined;
      return send(response, 201, { streamName, callback });
    }
    const stream = /^\/_control\/streams\/([^/]+)$/.exec(path);
    if (method === "DELETE" && stream) {
      const name = decodeURIComponent(stream[1]!);
      const gone = state.onlineStreams.find((s) => s.streamName === name);
      state.onlineStreams = state.onlineStreams.filter((s) => s.streamName !== name);
      const callback = gone && body.callback && options.liveCallbacks ? await callbacks.fireLiveCallback("live", callbacks.streamEvent(gone, 0)) : undefined;
      return send(response, 200, { callback });
    }
    if (method === "POST" && path === "/_control/media") {
      if (typeof body.fileId !== "string") return send(response, 400, { error: "fileId is required" });
      callbacks.addMedia(body.fileId, Number(body.durationSeconds ?? 0), Number(body.sizeBytes ?? 0));
      return send(response, 201, {});
    }
    const live = /^\/_control\/callbacks\/(live|trtc|vod)$/.exec(path);
    if (method === "POST" && live) {
      return send(response, 200, await callbacks.fireLiveCallback(live[1] as "live" | "trtc" | "vod", (body.body ?? {}) as Json, body.forge as Forgery | undefined));
    }
    if (method === "POST" && (path === "/_control/trtc/enter" || path === "/_control/trtc/switch-role")) {
      const request = {
        userId: String(body.userId ?? ""),
        userSig: String(body.userSig ?? ""),
        roomId: Number(body.roomId),
        role: (body.role === "anchor" ? "anchor" : "audience") as TrtcRole,
        privateMapKey: typeof body.privateMapKey === "string" ? body.privateMapKey : undefined,
      };
      try {
        const room = path.endsWith("/enter") ? trtc.enterRoom(request) : trtc.switchRole(request);
        return send(response, 200, { code: 0, message: "", room });
      } catch (error) {
        if (error instanceof TrtcFailure) return send(response, 403, { code: error.code, message: error.message });
        throw error;
      }
    }
    if (method === "PUT" && path === "/_control/im/settings") {
      if (body.beforeSendOnFailure === "deliver" || body.beforeSendOnFailure === "drop") state.im.beforeSendOnFailure = body.beforeSendOnFailure;
      if (Number.isInteger(body.afterSendRetries) && Number(body.afterSendRetries) >= 0) state.im.afterSendRetries = Number(body.afterSendRetries);
      return send(response, 200, state.im);
    }
    if (method === "PUT" && path === "/_control/trtc/settings") {
      if (typeof body.roomProtection === "boolean") state.trtc.roomProtection = body.roomProtection;
      return send(response, 200, { roomProtection: state.trtc.roomProtection });
    }
    if (path === "/_control/dynamodb/faults" && options.dynamodbFaults && (method === "GET" || method === "PUT")) {
      if (method === "PUT") {
        try {
          options.dynamodbFaults.set(body);
        } catch (error) {
          return send(response, 400, { error: (error as Error).message });
        }
      }
      return send(response, 200, options.dynamodbFaults.get());
    }
    if (path === "/_control/im/limits" && (method === "GET" || method === "PUT")) {
      if (method === "PUT") {
        try {
          Object.assign(limits.settings, checkLimits(body));
        } catch (error) {
          return send(response, 400, { error: (error as Error).message });
        }
      }
      return send(response, 200, limits.settings);
    }
    if (method === "POST" && path === "/_control/faults") {
      if (typeof body.action !== "string") return send(response, 400, { error: "action is required" });
      const id = randomUUID();
      faults.set(id, body as unknown as Fault);
      return send(response, 201, { id });
    }
    const fault = /^\/_control\/faults\/([^/]+)$/.exec(path);
    if (method === "DELETE" && fault) {
      faults.delete(fault[1]!);
      return send(response, 200, {});
    }
    send(response, 404, { error: `no control endpoint ${method} ${path}` });
  }

  return { handle };
}
