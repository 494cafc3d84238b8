import { UpdateCommand } from "../db/commands.js";
import { Broadcaster } from "../broadcasts/index.js";
import type { Config } from "../config/index.js";
import { batchGet, type Db } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { retryDueEntries, type OutboxRetrySummary } from "../outbox/index.js";
import { runPooled } from "../pool/index.js";
import { roomIdOfStream, roomKey, RoomService, RoomStore, type CloseReason, type Room } from "../rooms/index.js";
import { cloudCall, liveAppName, type TencentDeps } from "../tencent/index.js";

export interface SweepDeps {
  db: Db;
  config: Config;
  tencent: TencentDeps;
  log: Logger;
}

export interface SweepOptions {
  /** Wall-clock time after which the run starts no new close or retry (what is left stays due). */
  stopStartingAt?: number;
  /** Rooms closed, and rooms' side effects retried, side by side. */
  concurrency?: number;
}

export interface SweepSummary {
  staleClosed: number;
  expiredClosed: number;
  streamEndedClosed: number;
  /** Index entries read to find due rooms (it grows with what is due, not with what is live). */
  dueRead: number;
  /** `failed`: the CDN could not be listed; the lease is released so the next run tries again. */
  orphanScan: "ran" | "not_due" | "failed";
  onlineStreams: number;
  orphanStreamsDropped: number;
  /** Due rooms not closed before the deadline; the next run closes them. */
  deferredCloses: number;
  /** Rooms with gifts pending past their time, and how many of them were emptied. */
  broadcasts: { rooms: number; emptied: number };
  outbox: OutboxRetrySummary;
}

/**
 * One sweeper run. It reads only what is due — rooms past their heartbeat or creation limit,
 * streams past their grace, outbox entries past their retry time — through time-keyed index
 * partitions, never a Scan. Every close goes through the host's own close path, conditional
 * on what the sweeper read, so overlapping runs and racing hosts close each room once.
 */
export async function sweep(deps: SweepDeps, nowMs = Date.now(), options: SweepOptions = {}): Promise<SweepSummary> {
  const store = new RoomStore(deps.db);
  const rooms = new RoomService({ store, tencent: deps.tencent, config: deps.config, log: deps.log });
  const { config } = deps;
  const { stopStartingAt = Infinity, concurrency = 8 } = options;

  const closeDue = async (family: "HB" | "HBC" | "STREAMGONE", beforeMs: number, reason: CloseReason, stillDue: (room: Room) => boolean) => {
    const { roomIds, itemsRead } = await store.roomsDueIn(family, beforeMs);
    let closed = 0;
    const started = await runPooled(
      roomIds,
      concurrency,
      async (roomId) => {
        try {
          const result = await rooms.close(roomId, { reason, onlyIf: stillDue });
          if (result?.closedNow) closed++;
          // Handled either way: closed now, or the stream came back / the room already ended.
          if (family === "STREAMGONE") await store.deleteStreamMarker(roomId);
        } catch (error) {
          deps.log.error("sweeper could not close a room; next run retries", { roomId, reason, error });
        }
      },
      stopStartingAt,
    );
    return { closed, itemsRead, deferred: roomIds.length - started };
  };

  const staleBefore = nowMs - config.roomStaleSeconds * 1000;
  const expiredBefore = nowMs - config.createdRoomTtlSeconds * 1000;
  const streamGoneBefore = nowMs - config.streamEndGraceSeconds * 1000;
  const [stale, expired, streamEnded] = await Promise.all([
    closeDue("HB", staleBefore, "stale", (room) => room.status === "live" && room.lastHeartbeatAt < staleBefore),
    closeDue("HBC", expiredBefore, "expired", (room) => room.status === "created" && room.createdAt < expiredBefore),
    closeDue(
      "STREAMGONE",
      streamGoneBefore,
      "stream_ended",
      (room) => room.status === "live" && room.streamState === "inactive" && (room.streamChangedAt ?? nowMs) < streamGoneBefore,
    ),
  ]);
  const orphans = (await claimOrphanScan(deps.db, nowMs, config.orphanScanIntervalSeconds)) ? await scanOrphansOrRelease(deps, nowMs) : undefined;
  // Leftover gifts first: a closing room's room_closed notice waits for them.
  const broadcaster = new Broadcaster({ db: deps.db, im: deps.tencent.im, log: deps.log, settings: config.broadcasts });
  const broadcasts = await broadcaster.flushLeftovers(nowMs, { concurrency, stopStartingAt });
  // Runs whatever happened to the CDN scan: side effects must not wait on an unrelated outage.
  const outbox = await retryDueEntries(deps.db, deps.tencent, deps.log, nowMs, { concurrency, stopStartingAt });
  return {
    staleClosed: stale.closed,
    expiredClosed: expired.closed,
    streamEndedClosed: streamEnded.closed,
    dueRead: stale.itemsRead + expired.itemsRead + streamEnded.itemsRead,
    deferredCloses: stale.deferred + expired.deferred + streamEnded.deferred,
    orphanScan: orphans === undefined ? "not_due" : orphans === "failed" ? "failed" : "ran",
    onlineStreams: orphans === undefined || orphans === "failed" ? 0 : orphans.online,
    orphanStreamsDropped: orphans === undefined || orphans === "failed" ? 0 : orphans.dropped,
    broadcasts,
    outbox,
  };
}

/**
 * The CDN reconciliation runs at most every `intervalSeconds`, whichever sweeper gets there
 * first (a conditional write on one small item): it costs reads in proportion to the online
 * streams, so it must not run every minute on a busy app.
 */
async function claimOrphanScan(db: Db, nowMs: number, intervalSeconds: number): Promise<boolean> {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: orphanLeaseKey,
        UpdateExpression: "SET nextRunAt = :next",
        ConditionExpression: "attribute_not_exists(nextRunAt) OR nextRunAt <= :now",
        ExpressionAttributeValues: { ":next": nowMs + intervalSeconds * 1000, ":now": nowMs },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === "ConditionalCheckFailedException") return false;
    throw error;
  }
}

const orphanLeaseKey = { pk: "SWEEP#orphan-streams", sk: "LEASE" };

async function scanOrphansOrRelease(deps: SweepDeps, nowMs: number): Promise<{ online: number; dropped: number } | "failed"> {
  try {
    return await dropOrphanStreams(deps, nowMs);
  } catch (error) {
    deps.log.error("CDN reconciliation failed; the next run retries", { error });
    await deps.db.doc.send(new UpdateCommand({ TableName: deps.db.table, Key: orphanLeaseKey, UpdateExpression: "SET nextRunAt = :now", ExpressionAttributeValues: { ":now": nowMs } }));
    return "failed";
  }
}

/** Page through the CDN's online streams and drop those that belong to no open room past the grace. */
async function dropOrphanStreams(deps: SweepDeps, nowMs: number): Promise<{ online: number; dropped: number }> {
  const { config } = deps;
  const graceBefore = nowMs - config.orphanStreamGraceSeconds * 1000;
  let online = 0;
  let dropped = 0;
  for (let page = 1; ; page++) {
    const result = await cloudCall("DescribeLiveStreamOnlineList", async () =>
      (await deps.tencent.cloud.live()).DescribeLiveStreamOnlineList({ DomainName: config.cssPushDomain, AppName: liveAppName, PageNum: page, PageSize: 1000 }),
    );
    const streams = (result.OnlineInfo ?? [])
      .filter((stream) => {
        const published = Math.min(...(stream.PublishTimeList ?? []).map((p) => Date.parse(p.PublishTime ?? "")).filter(Number.isFinite));
        return Number.isFinite(published) && published < graceBefore;
      })
      .map((stream) => ({ stream, name: stream.StreamName ?? "", roomId: roomIdOfStream(stream.StreamName ?? "", config.sdkAppId) }));
    online += result.OnlineInfo?.length ?? 0;
    const ids = [...new Set(streams.flatMap(({ roomId }) => (roomId === undefined ? [] : [roomId])))];
    // A created room's host may push before reporting live (an encoder started early); the room
    // expires after CREATED_ROOM_TTL_SECONDS and its stream is dropped by the next scan.
    const openRooms = new Set((await batchGet(deps.db, ids.map(roomKey))).filter((item) => item.status !== "closed").map((item) => Number(item.roomId)));
    for (const { stream, name, roomId } of streams) {
      if (roomId !== undefined && openRooms.has(roomId)) continue;
      try {
        await cloudCall("DropLiveStream", async () => (await deps.tencent.cloud.live()).DropLiveStream({ StreamName: name, DomainName: config.cssPushDomain, AppName: stream.AppName ?? liveAppName }));
        dropped++;
        deps.log.info("orphaned CDN stream dropped", { streamId: name });
      } catch (error) {
        deps.log.warn("could not drop an orphaned stream; the next scan retries", { streamId: name, error });
      }
    }
    if (page >= (result.TotalPage ?? 1)) break;
  }
  return { online, dropped };
}
