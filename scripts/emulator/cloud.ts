import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Callbacks } from "./callbacks.js";
import { applyFault, takeFault } from "./faults.js";
import { verifyTc3 } from "./tc3.js";
import type { Trtc } from "./trtc.js";
import { CloudFailure, send, type EmulatorContext, type Json } from "./types.js";

const str = (value: unknown, field: string): string => {
  if (typeof value !== "string" || value === "") throw new CloudFailure("MissingParameter", `${field} is required`);
  return value;
};

/**
 * Cloud APIs as tencentcloud-sdk-nodejs sends them (`POST /`, TC3-signed; the action from
 * `X-TC-Action`, the service from the credential scope, never from the host name): TRTC, CSS, VOD.
 */
export function createCloud(ctx: EmulatorContext, trtc: Trtc, callbacks: Callbacks) {
  const { options, state, signer, faults } = ctx;

  const cloudActions: Record<string, (body: Json) => Json> = {
    RemoveUser: (body) => {
      if (body.SdkAppId !== options.sdkAppId) throw new CloudFailure("InvalidParameter.SdkAppId", "SdkAppId does not match");
      if (!Number.isInteger(body.RoomId)) throw new CloudFailure("InvalidParameter.RoomId", "RoomId must be an integer");
      if (!Array.isArray(body.UserIds) || body.UserIds.length === 0 || body.UserIds.length > 10) throw new CloudFailure("InvalidParameter.UserIds", "UserIds must list 1 to 10 users");
      trtc.remove(body.RoomId as number, body.UserIds as string[]);
      return {};
    },
    DismissRoom: (body) => {
      if (body.SdkAppId !== options.sdkAppId) throw new CloudFailure("InvalidParameter.SdkAppId", "SdkAppId does not match");
      if (!Number.isInteger(body.RoomId)) throw new CloudFailure("InvalidParameter.RoomId", "RoomId must be an integer");
      state.dismissedRooms.push(body.RoomId as number);
      trtc.dismiss(body.RoomId as number);
      return {};
    },
    DismissRoomByStrRoomId: (body) => {
      if (body.SdkAppId !== options.sdkAppId) throw new CloudFailure("InvalidParameter.SdkAppId", "SdkAppId does not match");
      state.dismissedRooms.push(str(body.RoomId, "RoomId"));
      return {};
    },
    CreateCloudRecording: (body) => {
      if (body.SdkAppId !== options.sdkAppId) throw new CloudFailure("InvalidParameter.SdkAppId", "SdkAppId does not match");
      const roomId = str(body.RoomId, "RoomId");
      const userId = str(body.UserId, "UserId");
      if (signer.verify(String(body.UserSig ?? ""), userId) !== "ok") throw new CloudFailure("InvalidParameter.UserSig", "UserSig is invalid");
      const idle = (body.RecordParams as { MaxIdleTime?: number } | undefined)?.MaxIdleTime;
      if (idle !== undefined && !(Number.isInteger(idle) && idle >= 5 && idle <= 86_400)) throw new CloudFailure("InvalidParameter.MaxIdleTime", "MaxIdleTime must be 5-86400");
      const taskId = `task-${randomUUID()}`;
      state.recordings.push({ taskId, roomId, userId, status: "InProgress", params: body, startedAt: Date.now() });
      return { TaskId: taskId };
    },
    DescribeCloudRecording: (body) => {
      const task = state.recordings.find((r) => r.taskId === body.TaskId);
      if (!task) throw new CloudFailure("InvalidParameter.TaskId", "task not found");
      return { TaskId: task.taskId, Status: task.status === "InProgress" ? "InProgress" : "Exited", StorageFileList: [] };
    },
    DeleteCloudRecording: (body) => {
      const task = state.recordings.find((r) => r.taskId === body.TaskId);
      if (!task) throw new CloudFailure("InvalidParameter.TaskId", "task not found");
      if (task.status === "InProgress") setImmediate(() => void callbacks.uploadRecording(task));
      task.status = "Exited";
      return { TaskId: task.taskId };
    },
    DescribeMediaInfos: (body) => {
      const fileIds = body.FileIds;
      if (!Array.isArray(fileIds) || fileIds.length === 0 || fileIds.length > 20 || !fileIds.every((id) => typeof id === "string")) {
        throw new CloudFailure("InvalidParameterValue.FileIds", "FileIds must hold 1-20 file ids");
      }
      const found = state.media.filter((m) => fileIds.includes(m.fileId));
      return {
        MediaInfoSet: found.map((m) => ({
          FileId: m.fileId,
          BasicInfo: { Name: m.fileId, CreateTime: m.createTime, MediaUrl: m.url, Type: "mp4" },
          MetaData: { Size: m.sizeBytes, Duration: m.durationSeconds, Container: "mp4" },
        })),
        NotExistFileIdSet: fileIds.filter((id) => !found.some((m) => m.fileId === id)),
      };
    },
    DescribeLiveStreamOnlineList: (body) => {
      const pageNum = Number(body.PageNum ?? 1);
      const pageSize = Number(body.PageSize ?? 10);
      if (pageSize < 10 || pageSize > 300000) throw new CloudFailure("InvalidParameter", "PageSize must be 10-300000");
      const matching = state.onlineStreams.filter(
        (s) => (!body.DomainName || s.domainName === body.DomainName) && (!body.AppName || s.appName === body.AppName) && (!body.StreamName || s.streamName === body.StreamName),
      );
      const page = matching.slice((pageNum - 1) * pageSize, pageNum * pageSize);
      return {
        TotalNum: matching.length,
        TotalPage: Math.ceil(matching.length / pageSize),
        PageNum: pageNum,
        PageSize: pageSize,
        OnlineInfo: page.map((s) => ({ StreamName: s.streamName, AppName: s.appName, DomainName: s.domainName, PublishTimeList: [{ PublishTime: s.publishTime }], PushToDelay: 0 })),
      };
    },
    DropLiveStream: (body) => {
      const streamName = str(body.StreamName, "StreamName");
      str(body.DomainName, "DomainName");
      str(body.AppName, "AppName");
      const index = state.onlineStreams.findIndex((s) => s.streamName === streamName);
      // (unconfirmed) the code the real service uses for a stream that is not pushing.
      if (index < 0) throw new CloudFailure("ResourceNotFound.StreamNotAlive", "the stream is not alive");
      state.onlineStreams.splice(index, 1);
      state.droppedStreams.push(streamName);
      return {};
    },
    ForbidLiveStream: (body) => {
      const streamName = str(body.StreamName, "StreamName");
      str(body.DomainName, "DomainName");
      str(body.AppName, "AppName");
      state.onlineStreams = state.onlineStreams.filter((s) => s.streamName !== streamName);
      state.forbiddenStreams.push({ streamName, reason: body.Reason as string | undefined, resumeTime: body.ResumeTime as string | undefined });
      return {};
    },
    ResumeLiveStream: (body) => {
      const streamName = str(body.StreamName, "StreamName");
      state.forbiddenStreams = state.forbiddenStreams.filter((s) => s.streamName !== streamName);
      return {};
    },
  };

  async function handle(request: IncomingMessage, raw: Buffer, response: ServerResponse) {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value]));
    const requestId = randomUUID();
    const answer = (action: string, fields: Json) => {
      state.calls.push({ action, ok: !("Error" in fields) });
      send(response, 200, { Response: { ...fields, RequestId: requestId } });
    };
    const verdict = verifyTc3(headers, raw, options.apiSecrets, undefined, options.apiSessionTokens);
    if (!verdict.ok) return answer(headers["x-tc-action"] ?? "unknown", { Error: { Code: verdict.code, Message: verdict.message } });
    const handler = cloudActions[verdict.action];
    if (!handler) return answer(verdict.action, { Error: { Code: "InvalidAction", Message: `action ${verdict.action} is not emulated` } });
    const fault = takeFault(faults, verdict.action, raw);
    if (fault && (await applyFault(fault, response, () => ({ Response: { Error: { Code: String(fault.code), Message: fault.message ?? "emulated failure" }, RequestId: requestId } })))) {
      state.calls.push({ action: verdict.action, ok: false });
      return;
    }
    try {
      answer(verdict.action, handler(JSON.parse(raw.toString("utf8")) as Json));
    } catch (error) {
      if (error instanceof CloudFailure) return answer(verdict.action, { Error: { Code: error.code, Message: error.message } });
      if (error instanceof SyntaxError) return answer(verdict.action, { Error: { Code: "InvalidParameter", Message: "body is not JSON" } });
      throw error;
    }
  }

  return { handle };
}
