import { describe, expect, it } from "vitest";
import { parseConfig } from "../../shared/config/index.js";
import { recorderIdleSeconds } from "../../shared/tencent/index.js";
import { api, emulatorState, emulatorUrl, getItem, injectFault, jwtUser, stackUrl } from "../helpers.js";

async function liveRoom() {
  const host = await jwtUser("host");
  const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "replay show" } });
  await api("POST", `/v1/rooms/${created.body.roomId}/live`, { token: host.token });
  return { host, roomId: created.body.roomId as number, groupId: created.body.groupId as string, streamId: created.body.streamId as string };
}

/** The emulator posts a platform event to onair, signed as that platform does (or forged). */
async function fire(kind: "live" | "trtc" | "vod", body: unknown, forge?: string) {
  const response = await fetch(`${emulatorUrl()}/_control/callbacks/${kind}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ body, forge }),
  });
  return (await response.json()) as { status: number; reply: any };
}

const recordEvent = (streamId: string, fileId: string, endTime: number, duration: number) => ({
  event_type: 100,
  appid: 1250000000,
  app: process.env.CSS_PUSH_DOMAIN,
  appname: "live",
  stream_id: streamId,
  channel_id: streamId,
  file_id: fileId,
  record_file_id: fileId,
  file_format: "mp4",
  task_id: "",
  // CSS reports the file's wall-clock start, which can be a second or two before end - duration.
  start_time: endTime - duration - 2,
  end_time: endTime,
  duration,
  file_size: 1_000_000 + duration,
  video_url: `https://1250000000.vod2.myqcloud.com/x/${fileId}/f0.mp4`,
  callback_ext: "{}",
});

describe("recording and replays", () => {
  it("starts recording when the room goes live", async () => {
    const { roomId } = await liveRoom();
    const recording = (await emulatorState()).recordings.find((r) => r.roomId === String(roomId));
    expect(recording).toMatchObject({ status: "InProgress", userId: `onair_recorder_${roomId}` });
    // The recorder outlasts a silence as long as the room survives it (the sweeper's stale time).
    const { roomStaleSeconds } = parseConfig(process.env);
    expect(recording!.params).toMatchObject({ RecordParams: { RecordMode: 2, MaxIdleTime: recorderIdleSeconds(roomStaleSeconds) } });
    expect(recorderIdleSeconds(roomStaleSeconds)).toBeGreaterThan(roomStaleSeconds);
    expect((await getItem({ pk: `ROOM#${roomId}`, sk: "ROOM" }))?.recordingTaskId).toBe(recording!.taskId);
  });

  it("restarts a recording that exited on its own while the room is live, once however often TRTC says so", async () => {
    const { host, roomId } = await liveRoom();
    const tasks = async () => (await emulatorState()).recordings.filter((r) => r.roomId === String(roomId));
    const [first] = await tasks();
    const exited = (taskId: string, leaveCode: number) => ({
      EventGroupId: 3,
      EventType: 302,
      CallbackTs: Date.now(),
      EventInfo: { RoomId: String(roomId), EventTs: String(Math.floor(Date.now() / 1000)), UserId: `onair_recorder_${roomId}`, TaskId: taskId, Payload: { LeaveCode: leaveCode } },
    });
    // Kicked by the server (3), delivered three times: one new task, which the room now holds.
    for (let i = 0; i < 3; i++) expect(await fire("trtc", exited(first!.taskId, 3))).toEqual({ status: 200, reply: { code: 0 } });
    const [, second, ...more] = await tasks();
    expect(more).toEqual([]);
    expect(second).toMatchObject({ status: "InProgress", userId: `onair_recorder_${roomId}` });
    expect((await getItem({ pk: `ROOM#${roomId}`, sk: "ROOM" }))?.recordingTaskId).toBe(second!.taskId);
    // A late event about the first task changes nothing; the close stops the second.
    await fire("trtc", exited(first!.taskId, 99));
    await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token });
    expect(await tasks()).toHaveLength(2);
    expect((await tasks())[1]).toMatchObject({ status: "Exited" });
    // The exit that onair's own stop causes (0) does not start another.
    await fire("trtc", exited(second!.taskId, 0));
    expect(await tasks()).toHaveLength(2);
  });

  it("does not restart a recording that onair stopped, nor one of a closed room", async () => {
    const { host, roomId } = await liveRoom();
    const [task] = (await emulatorState()).recordings.filter((r) => r.roomId === String(roomId));
    const exited = (leaveCode: number) => ({ EventGroupId: 3, EventType: 302, EventInfo: { RoomId: roomId, TaskId: task!.taskId, Payload: { LeaveCode: leaveCode } } });
    await fire("trtc", exited(0));
    await fire("trtc", exited(2));
    expect((await emulatorState()).recordings.filter((r) => r.roomId === String(roomId))).toHaveLength(1);
    await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token });
    await fire("trtc", exited(4));
    expect((await emulatorState()).recordings.filter((r) => r.roomId === String(roomId))).toHaveLength(1);
  });

  it("lists the file of a stopped recording once VOD reports its upload", async () => {
    const { host, roomId } = await liveRoom();
    const [task] = (await emulatorState()).recordings.filter((r) => r.roomId === String(roomId));
    await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token });
    // The emulator reports the recorder's exit (TRTC 302, stopped by the API) and then the upload, as the platform does.
    let items: { fileId: string; source: string; durationSeconds: number }[] = [];
    for (let i = 0; i < 50 && items.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      items = (await api("GET", `/v1/rooms/${roomId}/recordings`, { token: host.token })).body.items;
    }
    expect(items).toEqual([expect.objectContaining({ fileId: `emu-${task!.taskId}`, source: "vod", durationSeconds: expect.any(Number) })]);
    expect((await emulatorState()).recordings.filter((r) => r.roomId === String(roomId))).toHaveLength(1);
  });

  it("stores a recording file once however often it is reported, and serves it in order", async () => {
    const { host, roomId, streamId } = await liveRoom();
    const end = Math.floor(Date.now() / 1000);
    // The second hour arrives first; the first hour is reported three times.
    expect((await fire("live", recordEvent(streamId, `f2-${roomId}`, end, 1200))).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const reply = await fire("live", recordEvent(streamId, `f1-${roomId}`, end - 1200, 3600));
      expect(reply).toEqual({ status: 200, reply: { code: 0 } });
    }
    // The same file reported by VOD's upload event is still one segment.
    await fire("vod", {
      EventType: "NewFileUpload",
      FileUploadEvent: {
        FileId: `f1-${roomId}`,
        MediaBasicInfo: { MediaUrl: "https://vod.example/f1.mp4", CreateTime: new Date().toISOString(), SourceInfo: { SourceType: "Record", SourceContext: `room=${roomId}` } },
        MetaData: { Size: 5, Duration: 3600 },
      },
    });
    const recordings = await api("GET", `/v1/rooms/${roomId}/recordings`, { token: host.token });
    expect(recordings.status).toBe(200);
    expect(recordings.body.items.map((s: { fileId: string }) => s.fileId)).toEqual([`f1-${roomId}`, `f2-${roomId}`]);
    expect(recordings.body.totalDurationSeconds).toBe(4800);
    expect(recordings.body.items[0]).toMatchObject({ durationSeconds: 3600, source: "css", url: expect.stringContaining(`f1-${roomId}`) });
    expect(recordings.body.items[0].startAt).toBe(new Date((end - 1200 - 3600 - 2) * 1000).toISOString());
    const replays = await api("GET", "/v1/replays?limit=100", { token: host.token });
    expect(replays.body.items.find((r: { roomId: number }) => r.roomId === roomId)).toMatchObject({ segments: 2, totalDurationSeconds: 4800, hostId: host.userId, title: "replay show" });
  });

  it("pages a room's segments in start order, with the whole replay's duration on every page", async () => {
    const { host, roomId, streamId } = await liveRoom();
    const end = Math.floor(Date.now() / 1000);
    for (const hour of [2, 0, 1]) await fire("live", recordEvent(streamId, `seg${hour}-${roomId}`, end - (2 - hour) * 3600, 3600));
    const first = await api("GET", `/v1/rooms/${roomId}/recordings?limit=2`, { token: host.token });
    expect(first.body.items.map((s: { fileId: string }) => s.fileId)).toEqual([`seg0-${roomId}`, `seg1-${roomId}`]);
    expect(first.body.totalDurationSeconds).toBe(3 * 3600);
    const second = await api("GET", `/v1/rooms/${roomId}/recordings?limit=2&cursor=${first.body.nextCursor}`, { token: host.token });
    expect(second.body.items.map((s: { fileId: string }) => s.fileId)).toEqual([`seg2-${roomId}`]);
    expect([second.body.totalDurationSeconds, second.body.nextCursor]).toEqual([3 * 3600, null]);
    // A cursor of another room's replay is not one this room's listing returned.
    const other = await liveRoom();
    const foreign = await api("GET", `/v1/rooms/${other.roomId}/recordings?cursor=${first.body.nextCursor}`, { token: host.token });
    expect([foreign.status, foreign.body.error.code]).toEqual([400, "invalid_cursor"]);
  });

  it("pages the replay list newest first, each replay once", async () => {
    const rooms = [await liveRoom(), await liveRoom(), await liveRoom()];
    const end = Math.floor(Date.now() / 1000);
    for (const { streamId, roomId } of rooms) {
      await fire("live", recordEvent(streamId, `page-${roomId}`, end, 60));
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct update times
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api("GET", `/v1/replays?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: rooms[0]!.host.token });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((r: { roomId: number }) => r.roomId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const ours = seen.filter((roomId) => rooms.some((room) => room.roomId === roomId));
    expect(ours).toEqual(rooms.map((room) => room.roomId).reverse());
  });

  it("adds a file reported only by VOD (TRTC recording) to the room's replay", async () => {
    const { host, roomId } = await liveRoom();
    const reply = await fire("vod", {
      EventType: "NewFileUpload",
      FileUploadEvent: {
        FileId: `vod-${roomId}`,
        MediaBasicInfo: {
          MediaUrl: `https://vod.example/${roomId}.mp4`,
          CreateTime: new Date().toISOString(),
          SourceInfo: { SourceType: "Record", SourceContext: `room=${roomId}`, TrtcRecordInfo: { SdkAppId: 1400000000, RoomId: String(roomId), TaskId: "t", UserIds: [host.userId] } },
        },
        MetaData: { Size: 123, Duration: 59.6 },
      },
    });
    expect(reply).toEqual({ status: 200, reply: { code: 0 } });
    const recordings = await api("GET", `/v1/rooms/${roomId}/recordings`, { token: host.token });
    expect(recordings.body.items).toEqual([expect.objectContaining({ fileId: `vod-${roomId}`, durationSeconds: 60, sizeBytes: 123, source: "vod" })]);
  });

  describe("a VOD upload event without MetaData", () => {
    const upload = (roomId: number, fileId: string) => ({
      EventType: "NewFileUpload",
      FileUploadEvent: { FileId: fileId, MediaBasicInfo: { SourceInfo: { SourceType: "Record", SourceContext: `room=${roomId}` } }, MetaData: null },
    });
    const putMedia = (fileId: string, durationSeconds: number, sizeBytes: number) =>
      fetch(`${emulatorUrl()}/_control/media`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ fileId, durationSeconds, sizeBytes }) });
    const segments = async (roomId: number, token: string) => (await api("GET", `/v1/rooms/${roomId}/recordings`, { token })).body.items;

    it("gets the file's duration, size and URL from VOD", async () => {
      const { host, roomId } = await liveRoom();
      await putMedia(`bare-${roomId}`, 1799.6, 4567);
      expect(await fire("vod", upload(roomId, `bare-${roomId}`))).toEqual({ status: 200, reply: { code: 0 } });
      expect(await segments(roomId, host.token)).toEqual([
        expect.objectContaining({ fileId: `bare-${roomId}`, durationSeconds: 1800, sizeBytes: 4567, url: expect.stringContaining(`bare-${roomId}`), source: "vod" }),
      ]);
    });

    it("answers 502 and stores nothing while VOD cannot answer, so the event comes again and is stored", async () => {
      const { host, roomId } = await liveRoom();
      await putMedia(`later-${roomId}`, 60, 100);
      const disarm = await injectFault({ action: "DescribeMediaInfos", match: `later-${roomId}`, code: "InternalError", times: 1 });
      try {
        const failed = await fire("vod", upload(roomId, `later-${roomId}`));
        expect([failed.status, failed.reply.error.code]).toEqual([502, "upstream_unavailable"]);
        expect(await segments(roomId, host.token)).toEqual([]);
      } finally {
        await disarm();
      }
      expect((await fire("vod", upload(roomId, `later-${roomId}`))).status).toBe(200);
      expect(await segments(roomId, host.token)).toEqual([expect.objectContaining({ fileId: `later-${roomId}`, durationSeconds: 60 })]);
    });

    it("acknowledges a file VOD does not have and stores nothing", async () => {
      const { host, roomId } = await liveRoom();
      expect(await fire("vod", upload(roomId, `missing-${roomId}`))).toEqual({ status: 200, reply: { code: 0 } });
      expect(await segments(roomId, host.token)).toEqual([]);
    });
  });

  it.each([
    ["live", "sign"],
    ["live", "expired"],
    ["live", "unsigned"],
    ["trtc", "sign"],
    ["trtc", "unsigned"],
    ["vod", "sign"],
    ["vod", "unsigned"],
  ] as const)("rejects a %s callback forged by %s with 401 and writes nothing", async (kind, forge) => {
    const { host, roomId, streamId } = await liveRoom();
    const body =
      kind === "live"
        ? recordEvent(streamId, `forged-${roomId}`, Math.floor(Date.now() / 1000), 60)
        : kind === "vod"
          ? { EventType: "NewFileUpload", FileUploadEvent: { FileId: `forged-${roomId}`, MediaBasicInfo: { SourceInfo: { SourceContext: `room=${roomId}` } }, MetaData: { Duration: 60 } } }
          : { EventGroupId: 3, EventType: 311, EventInfo: { RoomId: String(roomId), TaskId: "t", Payload: { Status: 0 } } };
    const reply = await fire(kind, body, forge);
    expect(reply.status).toBe(401);
    expect(reply.reply.error.code).toBe("invalid_callback_signature");
    expect((await api("GET", `/v1/rooms/${roomId}/recordings`, { token: host.token })).body.items).toEqual([]);
    expect(await getItem({ pk: `REPLAY#${roomId}`, sk: "SUMMARY" })).toBeUndefined();
  });

  it.each([
    ["no file_id", { file_id: undefined }],
    ["no duration", { duration: undefined }],
    ["a negative duration", { duration: -5 }],
    ["a duration over a week", { duration: 700_000 }],
    ["an end_time that is no Unix time", { end_time: 1e300 }],
  ])("rejects a signed recording event with %s with 400 and writes nothing", async (_, change) => {
    const { host, roomId, streamId } = await liveRoom();
    const event = { ...recordEvent(streamId, `bad-${roomId}`, Math.floor(Date.now() / 1000), 60), ...change };
    const reply = await fire("live", event);
    expect(reply.status).toBe(400);
    expect(reply.reply.error).toMatchObject({ code: "invalid_request", message: expect.stringContaining("file_id, end_time in Unix seconds and a duration of 0 to 604800 seconds") });
    expect((await api("GET", `/v1/rooms/${roomId}/recordings`, { token: host.token })).body.items).toEqual([]);
  });

  it("rejects a signed stream event whose event_time is no Unix time, and a VOD file longer than a week, with 400", async () => {
    const { host, roomId, streamId } = await liveRoom();
    const stream = await fire("live", { event_type: 0, stream_id: streamId, event_time: 1e300 });
    expect([stream.status, stream.reply.error.message]).toEqual([400, "event_time must be Unix seconds"]);
    expect(await getItem({ pk: `ROOM#${roomId}`, sk: "ROOM" })).not.toHaveProperty("streamState");
    const upload = await fire("vod", { EventType: "NewFileUpload", FileUploadEvent: { FileId: `long-${roomId}`, MediaBasicInfo: { SourceInfo: { SourceContext: `room=${roomId}` } }, MetaData: { Duration: 1e9 } } });
    expect([upload.status, upload.reply.error.message]).toEqual([400, "MetaData.Duration must be 0 to 604800 seconds"]);
    expect((await api("GET", `/v1/rooms/${roomId}/recordings`, { token: host.token })).body.items).toEqual([]);
  });

  it("rejects a body that is not a JSON object with 400", async () => {
    for (const path of ["/v1/callbacks/live", "/v1/callbacks/trtc", "/v1/callbacks/vod"]) {
      const response = await fetch(`${stackUrl()}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: "[1," });
      // TRTC and VOD authenticate before parsing, so an unsigned bad body is refused as unsigned.
      const expected = path.endsWith("live") ? [400, "invalid_json"] : [401, "invalid_callback_signature"];
      expect([response.status, ((await response.json()) as { error: { code: string } }).error.code]).toEqual(expected);
    }
  });

  it("rejects a signed VOD upload event without a FileId with 400", async () => {
    const reply = await fire("vod", { EventType: "NewFileUpload", FileUploadEvent: { MetaData: { Duration: 1 } } });
    expect(reply.status).toBe(400);
    expect(reply.reply.error.message).toContain("FileUploadEvent.FileId");
  });

  it("acknowledges TRTC events and unknown CSS events", async () => {
    expect(await fire("trtc", { EventGroupId: 1, EventType: 103, CallbackTs: Date.now(), EventInfo: { RoomId: 1, UserId: "x", Role: 20 } })).toEqual({ status: 200, reply: { code: 0 } });
    expect(await fire("live", { event_type: 200, stream_id: "x", pic_url: "/a.jpg" })).toEqual({ status: 200, reply: { code: 0 } });
  });
});

describe("stream and moderation events", () => {
  it("keeps the room's stream state from begin and end events, ignoring a stale one", async () => {
    const { roomId, streamId } = await liveRoom();
    const now = Math.floor(Date.now() / 1000);
    const event = (type: 0 | 1, at: number) => ({ event_type: type, stream_id: streamId, channel_id: streamId, event_time: at, app: process.env.CSS_PUSH_DOMAIN, appname: "live" });
    await fire("live", event(1, now));
    expect(await getItem({ pk: `ROOM#${roomId}`, sk: "ROOM" })).toMatchObject({ streamState: "active" });
    await fire("live", event(0, now + 5));
    expect(await getItem({ pk: `ROOM#${roomId}`, sk: "ROOM" })).toMatchObject({ streamState: "inactive" });
    expect(await getItem({ pk: `STREAMGONE#${roomId}`, sk: "MARK" })).toMatchObject({ roomId });
    // A begin that happened before the end, delivered late, changes nothing.
    await fire("live", event(1, now + 2));
    expect(await getItem({ pk: `ROOM#${roomId}`, sk: "ROOM" })).toMatchObject({ streamState: "inactive" });
    await fire("live", event(1, now + 10));
    expect(await getItem({ pk: `ROOM#${roomId}`, sk: "ROOM" })).toMatchObject({ streamState: "active" });
    expect(await getItem({ pk: `STREAMGONE#${roomId}`, sk: "MARK" })).toBeUndefined();
  });

  it("closes the room, forbids the stream and tells the group on a moderation block", async () => {
    const { host, roomId, groupId, streamId } = await liveRoom();
    const reply = await fire("live", { event_type: 317, streamId, channelId: streamId, suggestion: "Block", label: "Porn", score: [99], type: [1], img: "https://x/y.jpg", app: process.env.CSS_PUSH_DOMAIN, appname: "live" });
    expect(reply).toEqual({ status: 200, reply: { code: 0 } });
    const room = await api("GET", `/v1/rooms/${roomId}`, { token: host.token });
    expect(room.body.status).toBe("closed");
    expect((await api("GET", `/v1/rooms/${roomId}/summary`, { token: host.token })).body.reason).toBe("moderation");
    const state = await emulatorState();
    expect(state.forbiddenStreams.map((s) => s.streamName)).toContain(streamId);
    const group = state.groups.find((g) => g.groupId === groupId)!;
    expect(group.destroyed).toBe(true);
    expect(JSON.stringify(group.messages)).toContain("moderation");
    expect(state.recordings.find((r) => r.roomId === String(roomId))?.status).toBe("Exited");
  });

  it("closes the room and forbids the host's and the flagged stream when an on-mic co-host's stream is blocked", async () => {
    const { host, roomId, streamId } = await liveRoom();
    const guest = await jwtUser("guest");
    await api("POST", `/v1/rooms/${roomId}/members`, { token: guest.token });
    await api("POST", `/v1/rooms/${roomId}/cohosts/invitations`, { token: host.token, body: { userId: guest.userId } });
    expect((await api("POST", `/v1/rooms/${roomId}/cohosts`, { token: guest.token })).body.onMic).toBe(true);
    const cohostStream = `${process.env.TENCENT_SDKAPPID}_${roomId}_${guest.userId}_aux`;
    await fire("live", { event_type: 317, streamId: cohostStream, suggestion: "Block", label: "Porn", app: process.env.CSS_PUSH_DOMAIN, appname: "live" });
    expect((await api("GET", `/v1/rooms/${roomId}/summary`, { token: host.token })).body.reason).toBe("moderation");
    const forbidden = (await emulatorState()).forbiddenStreams.map((s) => s.streamName);
    expect(forbidden).toEqual(expect.arrayContaining([streamId, cohostStream]));
  });

  it.each([
    ["a viewer's", "viewer"],
    ["a stranger's", "stranger"],
    ["a co-host's who has left the mic", "former"],
  ])("leaves the show alone on a moderation block of %s stream under the room's number", async (_case, who) => {
    const { host, roomId, streamId } = await liveRoom();
    const user = await jwtUser(who);
    if (who !== "stranger") await api("POST", `/v1/rooms/${roomId}/members`, { token: user.token });
    if (who === "former") {
      await api("POST", `/v1/rooms/${roomId}/cohosts/invitations`, { token: host.token, body: { userId: user.userId } });
      await api("POST", `/v1/rooms/${roomId}/cohosts`, { token: user.token });
      await api("DELETE", `/v1/rooms/${roomId}/cohosts/${user.userId}`, { token: user.token });
    }
    const stray = `${process.env.TENCENT_SDKAPPID}_${roomId}_${user.userId}_main`;
    const reply = await fire("live", { event_type: 317, streamId: stray, suggestion: "Block", label: "Porn" });
    expect(reply).toEqual({ status: 200, reply: { code: 0 } });
    expect((await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body.status).toBe("live");
    // The show goes on; only the flagged stream is forbidden, once however often CSS reports it.
    await fire("live", { event_type: 317, streamId: stray, suggestion: "Block", label: "Porn" });
    const forbidden = (await emulatorState()).forbiddenStreams.map((s) => s.streamName);
    expect(forbidden).not.toContain(streamId);
    expect(forbidden.filter((name) => name === stray)).toHaveLength(1);
  });

  it("ignores a moderation block on a stream of another app", async () => {
    const { host, roomId } = await liveRoom();
    await fire("live", { event_type: 317, streamId: `1${process.env.TENCENT_SDKAPPID}_${roomId}_guest_main`, suggestion: "Block", label: "Porn" });
    expect((await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body.status).toBe("live");
  });

  it("only logs a moderation review", async () => {
    const { host, roomId, streamId } = await liveRoom();
    await fire("live", { event_type: 317, streamId, suggestion: "Review", label: "Sexy" });
    expect((await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body.status).toBe("live");
  });
});
