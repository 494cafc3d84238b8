import { createHash, randomBytes } from "node:crypto";

/**
 * Pure room logic: ids, URLs, counters, heat and the end summary. No I/O here.
 */

export type RoomStatus = "created" | "live" | "closed";
export type CloseReason = "host" | "stale" | "expired" | "stream_ended" | "moderation";

/** Room counters, summed over their shards. */
export interface RoomCounts {
  /** Viewers in the room now. */
  online: number;
  /** Distinct viewers who ever joined. */
  totalViewers: number;
  likes: number;
  /** Heat from gifts (each gift's catalog heat × count). */
  giftHeat: number;
  /** Coins hosts earned from gifts in this room. */
  giftIncome: number;
}

export const zeroCounts = (): RoomCounts => ({ online: 0, totalViewers: 0, likes: 0, giftHeat: 0, giftIncome: 0 });

/** Counter shards per room: joins, likes and gifts of a hot room spread over this many items. */
export const counterShards = 16;
/** Member-list partitions per room, for the same reason. */
export const memberShards = 16;
/** Partitions of the "hot" list index, rewritten by heartbeats. */
export const hotShards = 10;
/** Partitions of the stale-heartbeat index the sweeper reads. */
export const heartbeatShards = 10;

/** Weight of one distinct viewer in heat. */
export const heatPerViewer = 10;

/**
 * Heat = 10 × distinct viewers + likes + gift heat. Every term only grows while the room is
 * live, so heat never drops under a room that is gaining attention and it is exact from the
 * counters at any moment.
 */
export function heatOf(counts: Pick<RoomCounts, "totalViewers" | "likes" | "giftHeat">): number {
  return heatPerViewer * counts.totalViewers + counts.likes + counts.giftHeat;
}

export function sumCounts(shards: Partial<RoomCounts>[]): RoomCounts {
  const total = zeroCounts();
  for (const shard of shards) {
    for (const key of Object.keys(total) as (keyof RoomCounts)[]) total[key] += Number(shard[key] ?? 0);
  }
  // A leave can land on a shard before its join's shard is read by a concurrent reader; never show below zero.
  total.online = Math.max(0, total.online);
  return total;
}

/** A stable shard for `key` in [0, shards). */
export function shardOf(key: string, shards: number): number {
  return createHash("sha1").update(key).digest().readUInt32BE(0) % shards;
}

/** First room id handed out; TRTC numeric room ids are 1 … 4294967294. */
export const firstRoomId = 100_001;
export const maxRoomId = 4_294_967_294;

/**
 * A room's IM group id: the room number plus 64 random bits. Room numbers are sequential, so
 * without the random part anyone allowed to create groups could take the next numbers' ids
 * ahead of onair and block room creation.
 */
export const groupIdFor = (roomId: number, nonce = randomBytes(8).toString("hex")) => `room_${roomId}_${nonce}`;

/** The room number a group id names. The caller still checks it against the room's stored `groupId`. */
export function roomIdOfGroup(groupId: unknown): number | undefined {
  // `room_<id>` is the form rooms created before the random part had; their stored groupId still says so.
  const match = typeof groupId === "string" ? /^room_(\d{1,10})(?:_[0-9a-f]{16})?$/.exec(groupId) : null;
  return match ? Number(match[1]) : undefined;
}

/** The stream id TRTC's CDN relay uses by default: `<sdkAppId>_<roomId>_<userId>_main`. */
export const streamIdFor = (sdkAppId: number, roomId: number, hostId: string) => `${sdkAppId}_${roomId}_${hostId}_main`;

/**
 * The room of a CDN stream named as TRTC's relay names them, `<sdkAppId>_<roomId>_<userId>_main`
 * (or `_aux` for screen share): the host's, but also each co-host's, which belong to the room
 * as much as the host's does.
 */
export function roomIdOfStream(streamName: string, sdkAppId: number): number | undefined {
  return streamPublisher(streamName, sdkAppId)?.roomId;
}

/** The room and the publishing user a TRTC-relayed stream name encodes. */
export function streamPublisher(streamName: string, sdkAppId: number): { roomId: number; userId: string } | undefined {
  const match = /^(\d+)_(\d{1,10})_(.+)_(?:main|aux)$/.exec(streamName);
  return match && Number(match[1]) === sdkAppId ? { roomId: Number(match[2]), userId: match[3]! } : undefined;
}

/**
 * Signed CSS push URL (reference §4.6): txTime is the expiry in upper-case hex and
 * txSecret = md5(key + streamName + txTime).
 */
export function pushUrl(options: { pushDomain: string; pushKey: string; streamId: string; expiresAtSeconds: number }): string {
  const txTime = options.expiresAtSeconds.toString(16).toUpperCase();
  const txSecret = createHash("md5").update(options.pushKey + options.streamId + txTime).digest("hex");
  return `rtmp://${options.pushDomain}/live/${options.streamId}?txSecret=${txSecret}&txTime=${txTime}`;
}

export function playUrls(playDomain: string, streamId: string) {
  return {
    rtmp: `rtmp://${playDomain}/live/${streamId}`,
    flv: `https://${playDomain}/live/${streamId}.flv`,
    hls: `https://${playDomain}/live/${streamId}.m3u8`,
  };
}

export interface RoomSummary {
  durationSeconds: number;
  peakViewers: number;
  totalViewers: number;
  likes: number;
  giftIncome: number;
  heat: number;
}

/**
 * When the live really ended: a room the sweeper closes as stale ended at its host's last
 * heartbeat, and one whose stream ended at that stream end, not when the sweeper noticed.
 */
export function liveEndedAt(
  room: { createdAt: number; liveAt?: number; lastHeartbeatAt?: number; streamChangedAt?: number },
  reason: CloseReason,
  closedAtMs: number,
): number {
  const lastSign = reason === "stale" ? room.lastHeartbeatAt : reason === "stream_ended" ? room.streamChangedAt : undefined;
  return Math.min(closedAtMs, Math.max(room.liveAt ?? room.createdAt, lastSign ?? closedAtMs));
}

/** The end-of-live summary: duration from going live (or creation, if it never did) to `endedAtMs`. */
export function summarize(room: { createdAt: number; liveAt?: number; peakViewers?: number }, counts: RoomCounts, endedAtMs: number): RoomSummary {
  const startedAt = room.liveAt ?? room.createdAt;
  return {
    durationSeconds: Math.max(0, Math.round((endedAtMs - startedAt) / 1000)),
    peakViewers: Math.max(room.peakViewers ?? 0, counts.online),
    totalViewers: counts.totalViewers,
    likes: counts.likes,
    giftIncome: counts.giftIncome,
    heat: heatOf(counts),
  };
}

/** Fixed-width number, so string order is numeric order in index sort keys. */
export const padded = (value: number, width = 15) => String(Math.max(0, Math.floor(value))).padStart(width, "0");

/** Index sort key that orders by `value`, ties broken by room id. */
export const orderKey = (value: number, roomId: number) => `${padded(value)}#${padded(roomId, 10)}`;

/** TRTC privilege bits of a PrivateMapKey (`../shared/tencent-cloud-reference.md` §1.1). */
export const trtcPrivilege = {
  createRoom: 1,
  enterRoom: 2,
  sendAudio: 4,
  receiveAudio: 8,
  sendVideo: 16,
  receiveVideo: 32,
  sendSubStream: 64,
  receiveSubStream: 128,
} as const;

export type RoomRole = "host" | "cohost" | "viewer";

const receiveAll = trtcPrivilege.receiveAudio | trtcPrivilege.receiveVideo | trtcPrivilege.receiveSubStream;
const sendAll = trtcPrivilege.sendAudio | trtcPrivilege.sendVideo | trtcPrivilege.sendSubStream;

/**
 * What each role may do in a room's TRTC room: the host everything, an on-mic co-host all but
 * create it, a viewer enter and receive only, so a viewer's client cannot push into the show
 * even if it calls `switchRole(anchor)`.
 */
export const privilegesOf: Record<RoomRole, number> = {
  host: trtcPrivilege.createRoom | trtcPrivilege.enterRoom | sendAll | receiveAll,
  cohost: trtcPrivilege.enterRoom | sendAll | receiveAll,
  viewer: trtcPrivilege.enterRoom | receiveAll,
};

/** Whether `userId` is on mic: an own key of `cohosts`, never an inherited one like `constructor`. */
export const isCohost = (room: { cohosts: Record<string, number> }, userId: string): boolean => Object.hasOwn(room.cohosts, userId);
