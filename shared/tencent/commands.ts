import type { Config } from "../config/index.js";
import { cloudCall, type CloudClients } from "./cloud.js";
import { isTencentError } from "./errors.js";
import { customElem, groupGoneCodes, type ImClient, type MsgPriority } from "./im.js";
import type { UserSigSigner } from "./usersig.js";

/**
 * Every Tencent side effect onair makes after a state change, as a plain serialisable command:
 * the outbox stores it, runs it, and the sweeper replays it until it is done.
 */
export type TencentCommand =
  | { kind: "sendGroupMessage"; groupId: string; data: Record<string, unknown>; desc: string; random: number; fromAccount?: string; priority?: MsgPriority }
  | { kind: "sendC2CMessage"; toAccount: string; data: Record<string, unknown>; desc: string; random: number }
  | { kind: "destroyGroup"; groupId: string }
  | { kind: "dismissRoom"; roomId: number }
  | { kind: "removeTrtcUser"; roomId: number; userId: string }
  | { kind: "dropStream"; streamId: string }
  | { kind: "forbidStream"; streamId: string; reason: string }
  | { kind: "startRecording"; roomId: number }
  | { kind: "stopRecording"; taskId: string };

export interface TencentDeps {
  im: ImClient;
  cloud: CloudClients;
  signer: UserSigSigner;
  config: Pick<Config, "sdkAppId" | "cssPushDomain" | "recordingMaxFileMinutes" | "roomStaleSeconds" | "vodSubAppId">;
}

/** The cloud-recording robot of a room; the `onair_` prefix is reserved, so no user can collide. */
export const recorderUserId = (roomId: number) => `onair_recorder_${roomId}`;

/** How long the recorder waits in a room with no one publishing before it exits (TRTC allows 5–86400 s). */
export const recorderIdleSeconds = (roomStaleSeconds: number) => Math.min(86_400, Math.max(60, 2 * roomStaleSeconds));

/** CSS app name of every onair stream (the path segment of push and play URLs). */
export const liveAppName = "live";

/** Cloud API codes that mean the effect already holds (the stream is not pushing, the room is gone). */
const alreadyDoneCloudCodes = new Set([
  "ResourceNotFound.StreamNotAlive",
  "InvalidParameter.StreamNotAlive",
  "FailedOperation.RoomNotExist",
  "ResourceNotFound.RoomNotExist",
  // (unconfirmed) a recording task that already ended
  "InvalidParameter.TaskId",
]);

/**
 * Run one command. A command whose effect already holds (group already destroyed, stream not
 * pushing) counts as done, so replays are harmless; a message whose group is gone is done but
 * `undelivered`. Returns what later state needs (a task id).
 */
export async function runCommand(command: TencentCommand, deps: TencentDeps): Promise<{ taskId?: string; undelivered?: boolean } | void> {
  try {
    switch (command.kind) {
      case "sendGroupMessage":
        await deps.im.sendGroupMessage(command.groupId, customElem(command.data, command.desc), command.random, command.fromAccount, command.priority);
        return;
      case "sendC2CMessage":
        await deps.im.sendC2CMessage(command.toAccount, customElem(command.data, command.desc), command.random);
        return;
      case "destroyGroup":
        await deps.im.destroyGroup(command.groupId);
        return;
      case "dismissRoom":
        await cloudCall("DismissRoom", async () => (await deps.cloud.trtc()).DismissRoom({ SdkAppId: deps.config.sdkAppId, RoomId: command.roomId }));
        return;
      case "removeTrtcUser":
        await cloudCall("RemoveUser", async () => (await deps.cloud.trtc()).RemoveUser({ SdkAppId: deps.config.sdkAppId, RoomId: command.roomId, UserIds: [command.userId] }));
        return;
      case "dropStream":
        await cloudCall("DropLiveStream", async () =>
          (await deps.cloud.live()).DropLiveStream({ StreamName: command.streamId, DomainName: deps.config.cssPushDomain, AppName: liveAppName }),
        );
        return;
      case "forbidStream":
        await cloudCall("ForbidLiveStream", async () =>
          (await deps.cloud.live()).ForbidLiveStream({ StreamName: command.streamId, DomainName: deps.config.cssPushDomain, AppName: liveAppName, Reason: command.reason }),
        );
        return;
      case "startRecording": {
        const userId = recorderUserId(command.roomId);
        // TRTC cloud recording into VOD, mixed (host and co-hosts), cut into files of at most an hour.
        // It outlasts a host's silence as long as the room does (twice the stale time): the
        // sweeper closes a silent room, and the close stops the recording.
        const { TaskId } = await cloudCall("CreateCloudRecording", async () =>
          (await deps.cloud.trtc()).CreateCloudRecording({
            SdkAppId: deps.config.sdkAppId,
            RoomId: String(command.roomId),
            RoomIdType: 1,
            UserId: userId,
            UserSig: deps.signer.issue(userId, 7 * 86_400).userSig,
            RecordParams: { RecordMode: 2, MaxIdleTime: recorderIdleSeconds(deps.config.roomStaleSeconds), StreamType: 0, MaxMediaFileDuration: deps.config.recordingMaxFileMinutes },
            StorageParams: {
              CloudVod: { TencentVod: { MediaType: 0, SourceContext: `room=${command.roomId}`, ...(deps.config.vodSubAppId ? { SubAppId: deps.config.vodSubAppId } : {}) } },
            },
            MixLayoutParams: { MixLayoutMode: 3 },
            ResourceExpiredHour: 72,
          }),
        );
        return { taskId: TaskId };
      }
      case "stopRecording":
        await cloudCall("DeleteCloudRecording", async () => (await deps.cloud.trtc()).DeleteCloudRecording({ SdkAppId: deps.config.sdkAppId, TaskId: command.taskId }));
        return;
    }
  } catch (error) {
    // A message to a group that is gone is settled too, but it did not reach anyone.
    if (isTencentError(error) && command.kind === "sendGroupMessage" && groupGoneCodes.has(error.code)) return { undelivered: true };
    if (isTencentError(error) && (alreadyDoneCloudCodes.has(error.code) || (isGroupCommand(command) && groupGoneCodes.has(error.code)))) return;
    throw error;
  }
}

const isGroupCommand = (command: TencentCommand) => command.kind === "destroyGroup" || command.kind === "sendGroupMessage";
