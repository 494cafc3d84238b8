import { QueryCommand } from "../db/commands.js";
import { batchGet, transact, type Db } from "../db/index.js";
import { orderKey } from "../rooms/index.js";

/**
 * The replay catalog: one segment per recorded file (TRTC recordings are cut into files of at
 * most an hour), keyed by the VOD FileId so a file reported twice — or by two sources (CSS
 * record event, VOD upload event) — is stored once.
 *
 * - segment   pk `REPLAY#<roomId>`   sk `FILE#<fileId>`   { url, startAt, endAt, durationSeconds, sizeBytes, source }
 * - replay    pk `REPLAY#<roomId>`   sk `SUMMARY`         { title, hostId, segments, totalDurationSeconds }
 *             gsi2 `REPLAYS` / `<updatedAt>#<roomId>`: recent replays, written once per file
 */
export interface Segment {
  roomId: number;
  fileId: string;
  url: string;
  /** Content start and end (ms). */
  startAt: number;
  endAt: number;
  durationSeconds: number;
  sizeBytes: number;
  source: "css" | "vod";
}

export interface ReplaySummary {
  roomId: number;
  title: string;
  hostId: string;
  segments: number;
  totalDurationSeconds: number;
  updatedAt: number;
}

const summaryKey = (roomId: number) => ({ pk: `REPLAY#${roomId}`, sk: "SUMMARY" });

export class ReplayStore {
  constructor(readonly db: Db) {}

  /** Store a segment once; the room's replay totals grow in the same transaction. False if already stored. */
  async addSegment(segment: Segment, room: { title: string; hostId: string }, nowMs = Date.now()): Promise<boolean> {
    // A redelivered event finds its file stored: the condition fails and nothing is added twice.
    const result = await transact(this.db, {
      segment: {
        Put: {
          TableName: this.db.table,
          Item: { pk: `REPLAY#${segment.roomId}`, sk: `FILE#${segment.fileId}`, type: "replay_segment", ...segment },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      totals: {
        Update: {
          TableName: this.db.table,
          Key: summaryKey(segment.roomId),
          UpdateExpression:
            "SET #type = :type, roomId = :room, title = :title, hostId = :host, updatedAt = :now, gsi2pk = :pk, gsi2sk = :sk ADD #segments :one, totalDurationSeconds :duration",
          ExpressionAttributeNames: { "#type": "type", "#segments": "segments" },
          ExpressionAttributeValues: {
            ":type": "replay",
            ":room": segment.roomId,
            ":title": room.title,
            ":host": room.hostId,
            ":now": nowMs,
            ":pk": "REPLAYS",
            ":sk": orderKey(nowMs, segment.roomId),
            ":one": 1,
            ":duration": segment.durationSeconds,
          },
        },
      },
    });
    // Still contended at the deadline: an error, so the platform delivers the event again.
    if (!result.ok && result.failed.length === 0) throw new Error("the replay segment stayed contended; retry");
    return result.ok;
  }

  /** A room's segments in recording order. */
  async segments(roomId: number): Promise<Segment[]> {
    const items: Segment[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.doc.send(
        new QueryCommand({
          TableName: this.db.table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :file)",
          ExpressionAttributeValues: { ":pk": `REPLAY#${roomId}`, ":file": "FILE#" },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((page.Items ?? []) as unknown as Segment[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return items
      .map(({ roomId: r, fileId, url, startAt, endAt, durationSeconds, sizeBytes, source }) => ({ roomId: r, fileId, url, startAt, endAt, durationSeconds, sizeBytes, source }))
      .sort((a, b) => a.startAt - b.startAt || (a.fileId < b.fileId ? -1 : 1));
  }

  /** Recent replays, newest recording first; `after` is the last sort key seen. */
  async recent(limit: number, after?: string): Promise<{ items: ReplaySummary[]; next?: string }> {
    const page = await this.db.doc.send(
      new QueryCommand({
        TableName: this.db.table,
        IndexName: "gsi2",
        KeyConditionExpression: after ? "gsi2pk = :pk AND gsi2sk < :after" : "gsi2pk = :pk",
        ExpressionAttributeValues: { ":pk": "REPLAYS", ...(after ? { ":after": after } : {}) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const keys = (page.Items ?? []).map((item) => ({ pk: String(item.pk), sk: String(item.sk) }));
    const order = (page.Items ?? []).map((item) => String(item.gsi2sk));
    if (keys.length === 0) return { items: [] };
    const byPk = new Map((await batchGet(this.db, keys)).map((item) => [String(item.pk), item]));
    const items = keys.flatMap((key) => {
      const item = byPk.get(key.pk);
      return item
        ? [{ roomId: Number(item.roomId), title: String(item.title), hostId: String(item.hostId), segments: Number(item.segments), totalDurationSeconds: Number(item.totalDurationSeconds), updatedAt: Number(item.updatedAt) }]
        : [];
    });
    return { items, next: page.LastEvaluatedKey ? order.at(-1) : undefined };
  }
}
