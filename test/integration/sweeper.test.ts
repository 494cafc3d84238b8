import { randomBytes } from "node:crypto";
import { GetCommand, PutCommand, UpdateCommand } from "../../shared/db/commands.js";
import { beforeAll, describe, expect, it } from "vitest";
import { createRoomsApp } from "../../functions/rooms/app.js";
import { parseConfig } from "../../shared/config/index.js";
import { createDb, setUpTable } from "../../shared/db/index.js";
import { createLogger } from "../../shared/log/index.js";
import { groupIdFor, RoomService, RoomStore, streamIdFor } from "../../shared/rooms/index.js";
import { maxAttempts, retryDueEntries } from "../../shared/outbox/index.js";
import { sweep } from "../../shared/sweeper/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { emulatorState, emulatorUrl, injectFault } from "../helpers.js";

// The sweeper reads whole index partitions, so these tests get a table and a push domain of
// their own: sweeping "a minute from now" must not touch other test files' rooms or streams.
const config = parseConfig({ ...process.env, DYNAMODB_TABLE: `onair_sweep_${randomBytes(4).toString("hex")}`, CSS_PUSH_DOMAIN: "push-sweeper.onair.local" });
const db = createDb(config);
const tencent = createTencentDeps(config);
const log = createLogger({ service: "sweeper-test" });
const store = new RoomStore(db);
const rooms = new RoomService({ store, tencent, config, log });
/** Sweeps "offsetMs from now"; the CDN reconciliation is kept out (no stream is ever old enough) except where a test wants it. */
const quiet = { ...config, orphanStreamGraceSeconds: 10_000_000 };
const sweepAt = (offsetMs: number, overrides: Partial<typeof config> = {}) => sweep({ db, config: { ...quiet, ...overrides }, tencent, log }, Date.now() + offsetMs);
const staleMs = config.roomStaleSeconds * 1000;

beforeAll(async () => {
  await setUpTable(config.dynamodb, config.awsCredentials);
  // Room ids (and so IM group ids) far from the main table's, in the shared emulator.
  await db.doc.send(new PutCommand({ TableName: db.table, Item: { pk: "SEQ#rooms", sk: "SEQ", seq: 2_000_000_000 + Math.floor(Math.random() * 1_000_000_000) } }));
});

let hostCounter = 0;
async function liveRoom() {
  const hostId = `sweep_host_${randomBytes(4).toString("hex")}_${hostCounter++}`;
  const created = await rooms.create(hostId, "sweeper test");
  await rooms.goLive(created.roomId, hostId);
  return { ...created, hostId };
}

async function push(streamName: string, publishedSecondsAgo = 0) {
  await fetch(`${emulatorUrl()}/_control/streams`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ streamName, domainName: config.cssPushDomain, publishedSecondsAgo }),
  });
}

const closedMessages = async (groupId: string) =>
  ((await emulatorState()).groups.find((g) => g.groupId === groupId)?.messages ?? []).filter((m) =>
    JSON.stringify(m.body).includes("room_closed"),
  );

describe("sweeper", () => {
  it("drops a CDN stream that belongs to no open room once past its grace", async () => {
    const orphan = `${config.sdkAppId}_4200000001_nobody_main`;
    const young = `${config.sdkAppId}_4200000002_nobody_main`;
    const room = await liveRoom();
    // TRTC relays every publisher of a live room: a co-host's stream and the host's screen share are the room's too.
    const cohostStream = `${config.sdkAppId}_${room.roomId}_guest%40example_main`;
    const screenShare = `${config.sdkAppId}_${room.roomId}_${room.hostId}_aux`;
    const ended = await liveRoom();
    await rooms.close(ended.roomId, { by: ended.hostId, reason: "host" });
    const endedCohost = `${config.sdkAppId}_${ended.roomId}_guest_main`;
    // An encoder started before its host reported the room live.
    const early = await rooms.create(`sweep_early_${randomBytes(4).toString("hex")}`, "not live yet");
    const old = config.orphanStreamGraceSeconds + 60;
    await Promise.all([push(orphan, old), push(young, 0), push(room.streamId, old), push(cohostStream, old), push(screenShare, old), push(endedCohost, old), push(early.streamId, old)]);
    const summary = await sweepAt(1000, { orphanStreamGraceSeconds: config.orphanStreamGraceSeconds });
    expect(summary.orphanScan).toBe("ran");
    const state = await emulatorState();
    expect(state.droppedStreams).toEqual(expect.arrayContaining([orphan, endedCohost]));
    expect(state.onlineStreams.map((s) => s.streamName)).toEqual(expect.arrayContaining([young, room.streamId, cohostStream, screenShare, early.streamId]));
    // A second scan inside the interval does not run.
    expect((await sweepAt(2000, { orphanStreamGraceSeconds: config.orphanStreamGraceSeconds })).orphanScan).toBe("not_due");
  });

  it("retries outbox entries when the CDN cannot be listed, and scans again on the next run", async () => {
    const room = await liveRoom();
    await push(room.streamId);
    const disarmDrop = await injectFault({ action: "DropLiveStream", match: room.streamId, code: "InternalError", times: 1 });
    const closed = await rooms.close(room.roomId, { by: room.hostId, reason: "host" });
    await disarmDrop();
    expect(closed?.pendingEffects).toBe(1);
    // Far enough ahead that the reconciliation lease of the other tests has lapsed.
    const ahead = config.orphanScanIntervalSeconds * 1000 * 10;
    const disarmList = await injectFault({ action: "DescribeLiveStreamOnlineList", match: config.cssPushDomain, code: "InternalError", times: 1 });
    try {
      const failed = await sweepAt(ahead);
      expect(failed.orphanScan).toBe("failed");
      expect(failed.outbox.done).toBeGreaterThanOrEqual(1);
      expect((await emulatorState()).droppedStreams).toContain(room.streamId);
    } finally {
      await disarmList();
    }
    expect((await sweepAt(ahead + 1000)).orphanScan).toBe("ran");
  });

  it("closes a room whose host stopped heartbeating, with every clean-up of a host's close", async () => {
    const room = await liveRoom();
    await push(room.streamId);
    expect((await sweepAt(0)).staleClosed).toBe(0);
    const result = await sweepAt(staleMs + 1000);
    expect(result.staleClosed).toBeGreaterThanOrEqual(1);
    const stored = await store.getRoom(room.roomId, true);
    expect(stored).toMatchObject({ status: "closed", closeReason: "stale" });
    const state = await emulatorState();
    expect(state.groups.find((g) => g.groupId === room.groupId)?.destroyed).toBe(true);
    expect(await closedMessages(room.groupId)).toHaveLength(1);
    expect(state.dismissedRooms).toContain(room.roomId);
    expect(state.droppedStreams).toContain(room.streamId);
    // Recording was started when the room went live and is stopped now.
    const recording = state.recordings.find((r) => r.roomId === String(room.roomId));
    expect(recording).toMatchObject({ status: "Exited", userId: `onair_recorder_${room.roomId}` });
  });

  it("counts a stale room's live time up to its host's last heartbeat", async () => {
    const room = await liveRoom();
    const now = Date.now();
    // Live for ten minutes, silent for the last four.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: `ROOM#${room.roomId}`, sk: "ROOM" },
        UpdateExpression: "SET liveAt = :live, lastHeartbeatAt = :beat",
        ExpressionAttributeValues: { ":live": now - 600_000, ":beat": now - 240_000 },
      }),
    );
    const closed = await rooms.close(room.roomId, { reason: "stale", onlyIf: (r) => r.status === "live" });
    expect(closed?.summary.durationSeconds).toBe(360);
  });

  it("leaves a room alone while its host heartbeats", async () => {
    const room = await liveRoom();
    await sweepAt(staleMs / 2);
    await rooms.heartbeat(room.roomId, room.hostId);
    // Half a stale period after the heartbeat the room is not stale.
    await sweepAt(staleMs / 2);
    expect((await store.getRoom(room.roomId, true))?.status).toBe("live");
  });

  it("closes each stale room once when two sweeps run at once", async () => {
    const stale = await Promise.all([liveRoom(), liveRoom(), liveRoom()]);
    const [a, b] = await Promise.all([sweepAt(staleMs + 2000), sweepAt(staleMs + 2000)]);
    const closedByUs = stale.length;
    expect(a.staleClosed + b.staleClosed).toBeGreaterThanOrEqual(closedByUs);
    for (const room of stale) {
      expect((await store.getRoom(room.roomId, true))?.status).toBe("closed");
      expect(await closedMessages(room.groupId)).toHaveLength(1);
    }
    const state = await emulatorState();
    for (const room of stale) expect(state.dismissedRooms.filter((id) => id === room.roomId)).toHaveLength(1);
  });

  it("expires a room that was created and never reported live", async () => {
    const hostId = `sweep_host_${randomBytes(4).toString("hex")}`;
    const created = await rooms.create(hostId, "never live");
    await sweepAt(staleMs + 1000);
    expect((await store.getRoom(created.roomId, true))?.status).toBe("created");
    const summary = await sweepAt(config.createdRoomTtlSeconds * 1000 + 1000);
    expect(summary.expiredClosed).toBeGreaterThanOrEqual(1);
    expect(await store.getRoom(created.roomId, true)).toMatchObject({ status: "closed", closeReason: "expired" });
    expect((await emulatorState()).groups.find((g) => g.groupId === created.groupId)?.destroyed).toBe(true);
  });

  it("expires a room whose create crashed before its group existed, with nothing left pending", async () => {
    const roomId = await store.allocateRoomId();
    const hostId = `sweep_host_${randomBytes(4).toString("hex")}`;
    const createdAt = Date.now();
    const groupId = groupIdFor(roomId);
    await store.putNewRoom({ roomId, hostId, title: "crashed", status: "created", groupId, streamId: streamIdFor(config.sdkAppId, roomId, hostId), createdAt, lastHeartbeatAt: createdAt, cohosts: {}, heat: 0, online: 0, peakViewers: 0 });
    expect((await emulatorState()).groups.find((g) => g.groupId === groupId)).toBeUndefined();
    await sweepAt(config.createdRoomTtlSeconds * 1000 + 1000);
    expect(await store.getRoom(roomId, true)).toMatchObject({ status: "closed", closeReason: "expired" });
    for (const kind of ["notify", "destroyGroup", "dismissRoom", "dropStream"]) {
      const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: { pk: `OUTBOX#${roomId}:close:${kind}`, sk: "OUTBOX" }, ConsistentRead: true }));
      expect([kind, Item?.status]).toEqual([kind, "done"]);
    }
  });

  it("keeps retrying a failing DropLiveStream: two sweeps fail, the third succeeds and the entry is done", async () => {
    const room = await liveRoom();
    await push(room.streamId);
    // The host's close tries once inline; then the emulator fails the next two sweeps' tries.
    const disarm = await injectFault({ action: "DropLiveStream", match: room.streamId, code: "InternalError", times: 3 });
    try {
      const closed = await rooms.close(room.roomId, { by: room.hostId, reason: "host" });
      expect(closed?.pendingEffects).toBe(1);
      const key = { pk: `OUTBOX#${room.roomId}:close:dropStream`, sk: "OUTBOX" };
      const entry = async () => (await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }))).Item;
      expect(await entry()).toMatchObject({ status: "pending", attempts: 1 });
      await sweepAt(10_000);
      expect(await entry()).toMatchObject({ status: "pending", attempts: 2 });
      await sweepAt(20_000);
      expect(await entry()).toMatchObject({ status: "pending", attempts: 3 });
      expect((await emulatorState()).droppedStreams).not.toContain(room.streamId);
      const third = await sweepAt(40_000);
      expect(third.outbox.done).toBeGreaterThanOrEqual(1);
      expect(await entry()).toMatchObject({ status: "done" });
      expect((await emulatorState()).droppedStreams).toContain(room.streamId);
    } finally {
      await disarm();
    }
  });

  it("marks a side effect dead after its last attempt; an operator lists it and runs it again", async () => {
    const [first, second] = [await liveRoom(), await liveRoom()];
    await push(first.streamId);
    await push(second.streamId);
    const entryOf = (roomId: number) => `${roomId}:close:dropStream`;
    const entry = async (roomId: number) => (await db.doc.send(new GetCommand({ TableName: db.table, Key: { pk: `OUTBOX#${entryOf(roomId)}`, sk: "OUTBOX" }, ConsistentRead: true }))).Item;
    const app = createRoomsApp({ db, config, tencent });
    const admin = (method: string, path: string, key = config.adminKey) => app.request(path, { method, headers: { "x-admin-key": key } });
    const disarm = await injectFault({ action: "DropLiveStream", match: config.cssPushDomain, code: "InternalError", times: 2 * maxAttempts });
    try {
      // The first attempt is the close's own; each retry below is past the longest backoff.
      await rooms.close(first.roomId, { by: first.hostId, reason: "host" });
      await rooms.close(second.roomId, { by: second.hostId, reason: "host" });
      for (let attempt = 2; attempt <= maxAttempts; attempt++) await retryDueEntries(db, tencent, log, Date.now() + attempt * 3_600_000);
      expect(await entry(first.roomId)).toMatchObject({ status: "dead", attempts: maxAttempts, lastError: expect.stringContaining("InternalError") });
      // The sweeper leaves a dead entry alone.
      await retryDueEntries(db, tencent, log, Date.now() + 100 * 3_600_000);
      expect(await entry(first.roomId)).toMatchObject({ status: "dead", attempts: maxAttempts });
    } finally {
      await disarm();
    }

    expect((await admin("GET", "/v1/admin/outbox/dead", "wrong-key")).status).toBe(401);
    const firstPage = (await (await admin("GET", "/v1/admin/outbox/dead?limit=1")).json()) as { items: Record<string, unknown>[]; nextCursor: string };
    const secondPage = (await (await admin("GET", `/v1/admin/outbox/dead?limit=1&cursor=${firstPage.nextCursor}`)).json()) as { items: Record<string, unknown>[] };
    const listed = [...firstPage.items, ...secondPage.items];
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(
      expect.arrayContaining([first, second].map((room) => expect.objectContaining({ entryId: entryOf(room.roomId), kind: "dropStream", roomId: room.roomId, attempts: maxAttempts }))),
    );
    // Most recent first.
    expect(Date.parse(String(listed[0]!.deadAt))).toBeGreaterThanOrEqual(Date.parse(String(listed[1]!.deadAt)));
    expect((await emulatorState()).droppedStreams).not.toContain(first.streamId);

    const retried = await admin("POST", `/v1/admin/outbox/${encodeURIComponent(entryOf(first.roomId))}/retry`);
    expect([retried.status, await retried.json()]).toEqual([200, { entryId: entryOf(first.roomId), status: "done" }]);
    expect((await emulatorState()).droppedStreams).toContain(first.streamId);
    expect(await entry(first.roomId)).toMatchObject({ status: "done" });
    const remaining = (await (await admin("GET", "/v1/admin/outbox/dead")).json()) as { items: { entryId: string }[] };
    expect(remaining.items.map((item) => item.entryId)).toEqual([entryOf(second.roomId)]);
    expect(await entry(second.roomId)).toMatchObject({ status: "dead" });

    const again = await admin("POST", `/v1/admin/outbox/${encodeURIComponent(entryOf(first.roomId))}/retry`);
    expect([again.status, ((await again.json()) as { error: { code: string } }).error.code]).toEqual([409, "side_effect_not_dead"]);
    const unknown = await admin("POST", "/v1/admin/outbox/nothing-here/retry");
    expect([unknown.status, ((await unknown.json()) as { error: { code: string } }).error.code]).toEqual([404, "side_effect_not_found"]);
  });

  it("retries a room's side effects in order: the group hears room_closed before it is destroyed", async () => {
    const room = await liveRoom();
    const disarm = await Promise.all([
      injectFault({ action: "send_group_msg", match: room.groupId, code: 10002, times: 1 }),
      injectFault({ action: "destroy_group", match: room.groupId, code: 10002, times: 1 }),
    ]);
    const closed = await rooms.close(room.roomId, { by: room.hostId, reason: "host" });
    await Promise.all(disarm.map((d) => d()));
    expect(closed?.pendingEffects).toBe(2);
    // A slow message: run side by side, the destroy would overtake it and the group never hear it.
    const disarmSlow = await injectFault({ action: "send_group_msg", match: room.groupId, delayMs: 300, times: 1 });
    try {
      const retried = await sweepAt(60_000);
      expect(retried.outbox.done).toBeGreaterThanOrEqual(2);
    } finally {
      await disarmSlow();
    }
    expect(await closedMessages(room.groupId)).toHaveLength(1);
    expect((await emulatorState()).groups.find((g) => g.groupId === room.groupId)?.destroyed).toBe(true);
  });

  it("starts nothing after its deadline, and the next run closes and retries what was left", async () => {
    const withEffect = await liveRoom();
    await push(withEffect.streamId);
    const disarm = await injectFault({ action: "DropLiveStream", match: withEffect.streamId, code: "InternalError", times: 1 });
    await rooms.close(withEffect.roomId, { by: withEffect.hostId, reason: "host" });
    await disarm();
    const stale = await liveRoom();

    const late = await sweep({ db, config: quiet, tencent, log }, Date.now() + staleMs + 60_000, { stopStartingAt: Date.now() });
    expect(late.deferredCloses).toBeGreaterThanOrEqual(1);
    expect(late.outbox.deferred).toBeGreaterThanOrEqual(1);
    expect((await store.getRoom(stale.roomId, true))?.status).toBe("live");
    expect((await emulatorState()).droppedStreams).not.toContain(withEffect.streamId);

    const next = await sweepAt(staleMs + 60_000);
    expect(next.deferredCloses).toBe(0);
    expect(await store.getRoom(stale.roomId, true)).toMatchObject({ status: "closed", closeReason: "stale" });
    expect((await emulatorState()).droppedStreams).toContain(withEffect.streamId);
  });

  it("closes a live room whose stream ended and did not come back within the grace", async () => {
    const ended = await liveRoom();
    const back = await liveRoom();
    const t0 = Date.now();
    await rooms.streamEvent(ended.streamId, false, t0);
    await rooms.streamEvent(back.streamId, false, t0);
    await rooms.streamEvent(back.streamId, true, t0 + 1000);
    // Heartbeats continue; only the stream is gone.
    await rooms.heartbeat(ended.roomId, ended.hostId);
    await rooms.heartbeat(back.roomId, back.hostId);
    // A grace shorter than the stale time, so only the stream can make the room due.
    const summary = await sweepAt(6000, { streamEndGraceSeconds: 5 });
    expect(summary.streamEndedClosed).toBeGreaterThanOrEqual(1);
    expect(await store.getRoom(ended.roomId, true)).toMatchObject({ status: "closed", closeReason: "stream_ended" });
    expect((await store.getRoom(back.roomId, true))?.status).toBe("live");
  });
});
