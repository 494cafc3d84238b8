import { describe, expect, it } from "vitest";
import { api, emulatorState, getItem, injectFault, jwtUser, newUser, startPushing } from "../helpers.js";

type User = { userId: string; token: string };

async function liveRoom(host?: User, title = "Evening show") {
  host ??= await jwtUser("host");
  const created = await api("POST", "/v1/rooms", { token: host.token, body: { title } });
  expect(created.status).toBe(201);
  const live = await api("POST", `/v1/rooms/${created.body.roomId}/live`, { token: host.token });
  expect(live.status).toBe(200);
  return { host, room: created.body as { roomId: number; groupId: string; streamId: string; pushUrl: string } };
}

const customMessages = (group: { messages: { body: unknown[] }[] } | undefined) =>
  (group?.messages ?? []).map((message) => JSON.parse((message.body[0] as { MsgContent: { Data: string } }).MsgContent.Data));

describe("room lifecycle over HTTP", () => {
  it("runs the whole live: create, live, join, invite, on mic, likes, close, summary, clean-up", async () => {
    const host = await jwtUser("host");
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "My first live" } });
    expect(created.status).toBe(201);
    const { roomId, groupId, streamId, pushUrl } = created.body;
    expect(created.body.status).toBe("created");
    expect(roomId).toBeGreaterThanOrEqual(100001);
    expect(streamId).toBe(`${process.env.TENCENT_SDKAPPID}_${roomId}_${host.userId}_main`);
    expect(pushUrl).toMatch(new RegExp(`^rtmp://${process.env.CSS_PUSH_DOMAIN}/live/${streamId}\\?txSecret=[0-9a-f]{32}&txTime=[0-9A-F]+$`));
    let state = await emulatorState();
    expect(state.groups.find((g) => g.groupId === groupId)).toMatchObject({ type: "AVChatRoom", owner: host.userId, destroyed: false });

    // Not listed until live.
    const before = await api("GET", "/v1/rooms?limit=100", { token: host.token });
    expect(before.body.items.map((r: { roomId: number }) => r.roomId)).not.toContain(roomId);
    expect((await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token })).body.status).toBe("live");
    await startPushing(streamId);

    const viewers = await Promise.all([jwtUser(), jwtUser(), jwtUser()]);
    for (const viewer of viewers) expect((await api("POST", `/v1/rooms/${roomId}/members`, { token: viewer.token })).status).toBe(200);
    const [guest, second, third] = viewers as [User, User, User];
    expect((await api("DELETE", `/v1/rooms/${roomId}/members/me`, { token: third.token })).body.left).toBe(true);

    const invited = await api("POST", `/v1/rooms/${roomId}/cohosts/invitations`, { token: host.token, body: { userId: guest.userId } });
    expect(invited.status).toBe(201);
    state = await emulatorState();
    const invitation = state.c2cMessages.find((m) => m.to === guest.userId);
    expect(JSON.parse((invitation!.body[0] as { MsgContent: { Data: string } }).MsgContent.Data)).toMatchObject({ type: "cohost_invite", roomId, hostId: host.userId });
    // Nothing is broadcast to the group before the invitee is on mic.
    expect(customMessages(state.groups.find((g) => g.groupId === groupId))).toEqual([]);

    expect((await api("POST", `/v1/rooms/${roomId}/cohosts`, { token: guest.token })).body.onMic).toBe(true);
    state = await emulatorState();
    expect(customMessages(state.groups.find((g) => g.groupId === groupId))).toEqual([{ type: "cohost_on", roomId, userId: guest.userId }]);

    expect((await api("POST", `/v1/rooms/${roomId}/likes`, { token: second.token, body: { count: 7 } })).status).toBe(200);
    expect((await api("POST", `/v1/rooms/${roomId}/likes`, { token: guest.token, body: { count: 5 } })).status).toBe(200);

    const view = await api("GET", `/v1/rooms/${roomId}`, { token: second.token });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      roomId,
      title: "My first live",
      hostId: host.userId,
      status: "live",
      counts: { online: 2, totalViewers: 3, likes: 12, heat: 3 * 10 + 12, giftIncome: 0 },
      cohosts: [{ userId: guest.userId }],
      playUrls: {
        rtmp: `rtmp://${process.env.CSS_PLAY_DOMAIN}/live/${streamId}`,
        flv: `https://${process.env.CSS_PLAY_DOMAIN}/live/${streamId}.flv`,
        hls: `https://${process.env.CSS_PLAY_DOMAIN}/live/${streamId}.m3u8`,
      },
    });
    const heartbeat = await api("POST", `/v1/rooms/${roomId}/heartbeat`, { token: host.token });
    expect(heartbeat.body).toEqual({ roomId, status: "live", heartbeatIntervalSeconds: Number(process.env.HEARTBEAT_INTERVAL_SECONDS) });
    const listed = await api("GET", "/v1/rooms?limit=100", { token: second.token });
    expect(listed.body.items.find((r: { roomId: number }) => r.roomId === roomId)).toMatchObject({ heat: 42, online: 2, cohostCount: 1 });

    const closed = await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ roomId, status: "closed", reason: "host", pendingEffects: 0 });
    expect(closed.body.summary).toMatchObject({ peakViewers: 2, totalViewers: 3, likes: 12, giftIncome: 0, heat: 42 });
    expect(closed.body.summary.durationSeconds).toBeGreaterThanOrEqual(0);
    // Idempotent: a second close returns the same summary.
    const again = await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token });
    expect(again.body.summary).toEqual(closed.body.summary);
    expect((await api("GET", `/v1/rooms/${roomId}/summary`, { token: second.token })).body.summary).toEqual(closed.body.summary);

    const after = await api("GET", "/v1/rooms?limit=100", { token: host.token });
    expect(after.body.items.map((r: { roomId: number }) => r.roomId)).not.toContain(roomId);
    state = await emulatorState();
    const group = state.groups.find((g) => g.groupId === groupId)!;
    expect(group.destroyed).toBe(true);
    expect(customMessages(group).at(-1)).toMatchObject({ type: "room_closed", roomId, reason: "host", summary: closed.body.summary });
    expect(state.dismissedRooms).toContain(roomId);
    expect(state.droppedStreams).toContain(streamId);
    expect(state.onlineStreams.map((s) => s.streamName)).not.toContain(streamId);
    // A closed room takes no joins.
    const late = await api("POST", `/v1/rooms/${roomId}/members`, { token: third.token });
    expect([late.status, late.body.error.code]).toEqual([409, "room_closed"]);
  });

  it("lists live rooms newest first and hottest first, with cursors", async () => {
    const rooms = [];
    for (let i = 0; i < 3; i++) rooms.push(await liveRoom(undefined, `list ${i}`));
    const viewer = await jwtUser();
    const newest = await api("GET", "/v1/rooms?sort=new&limit=2", { token: viewer.token });
    expect(newest.status).toBe(200);
    expect(newest.body.items).toHaveLength(2);
    expect(newest.body.items[0].roomId).toBeGreaterThan(newest.body.items[1].roomId);
    expect(newest.body.nextCursor).toEqual(expect.any(String));
    const next = await api("GET", `/v1/rooms?sort=new&limit=2&cursor=${newest.body.nextCursor}`, { token: viewer.token });
    expect(next.body.items[0].roomId).toBeLessThan(newest.body.items[1].roomId);
    const wrongSort = await api("GET", `/v1/rooms?sort=hot&cursor=${newest.body.nextCursor}`, { token: viewer.token });
    expect([wrongSort.status, wrongSort.body.error.code]).toEqual([400, "invalid_cursor"]);

    // Heat is taken at the host's heartbeat: the oldest room becomes the hottest of all.
    const oldest = rooms[0]!;
    await api("POST", `/v1/rooms/${oldest.room.roomId}/likes`, { token: viewer.token, body: { count: 100 } });
    await api("POST", `/v1/rooms/${oldest.room.roomId}/likes`, { token: viewer.token, body: { count: 100 } });
    const { body: view } = await api("GET", `/v1/rooms/${oldest.room.roomId}`, { token: viewer.token });
    await api("POST", `/v1/rooms/${oldest.room.roomId}/heartbeat`, { token: oldest.host.token });
    const hot = await api("GET", "/v1/rooms?sort=hot&limit=1", { token: viewer.token });
    expect(hot.body.items[0]).toMatchObject({ roomId: oldest.room.roomId, heat: view.counts.heat });
    expect(view.counts.heat).toBeGreaterThanOrEqual(200);
    // Paging the hot list visits every live room once, in non-increasing heat.
    const seen: { roomId: number; heat: number }[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api("GET", `/v1/rooms?sort=hot&limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: viewer.token });
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen.map((r) => r.roomId)).size).toBe(seen.length);
    for (const { room } of rooms) expect(seen.map((r) => r.roomId)).toContain(room.roomId);
    expect(seen.map((r) => r.heat)).toEqual([...seen.map((r) => r.heat)].sort((a, b) => b - a));
  });

  it("rejects bad input with 400 naming the problem", async () => {
    const host = await jwtUser("host");
    const cases: [string, string, unknown, RegExp][] = [
      ["POST", "/v1/rooms", { title: "" }, /title: must not be empty/],
      ["POST", "/v1/rooms", { title: "直播".repeat(6) }, /title: must be at most 30 bytes/],
      ["POST", "/v1/rooms", { title: "ok", private: true }, /unknown field: private/],
      ["POST", "/v1/rooms/abc/live", undefined, /roomId/],
      ["POST", "/v1/rooms/0/heartbeat", undefined, /roomId/],
      ["POST", "/v1/rooms/100001/likes", { count: 0 }, /count/],
      ["POST", "/v1/rooms/100001/likes", { count: 101 }, /count/],
      ["POST", "/v1/rooms/100001/cohosts/invitations", { userId: "bad id" }, /userId/],
      ["GET", "/v1/rooms?sort=random", undefined, /sort/],
      ["GET", "/v1/rooms?limit=1000", undefined, /limit/],
      ["GET", "/v1/rooms?cursor=garbage", undefined, /cursor/],
      ["GET", "/v1/rooms/100001/members?cursor=eyJ4Ijo1fQ", undefined, /cursor/],
      ["GET", "/v1/rooms/abc/recordings", undefined, /roomId/],
      ["GET", "/v1/rooms/100001/recordings?limit=101", undefined, /limit/],
      ["GET", "/v1/replays?limit=0", undefined, /limit/],
      ["GET", "/v1/replays?cursor=garbage", undefined, /cursor/],
    ];
    for (const [method, path, body, message] of cases) {
      const response = await api(method, path, { token: host.token, body });
      expect([path, response.status]).toEqual([path, 400]);
      expect(response.body.error.message).toMatch(message);
    }
  });

  it("answers 404 for a room that does not exist", async () => {
    const user = await jwtUser();
    for (const [method, path] of [
      ["GET", "/v1/rooms/4000000000"],
      ["POST", "/v1/rooms/4000000000/members"],
      ["POST", "/v1/rooms/4000000000/close"],
      ["GET", "/v1/rooms/4000000000/recordings"],
    ] as const) {
      const response = await api(method, path, { token: user.token });
      expect([response.status, response.body.error.code]).toEqual([404, "room_not_found"]);
    }
  });
});

describe("authorization", () => {
  it("lets only the host report live, heartbeat, invite, kick and close", async () => {
    const { host, room } = await liveRoom();
    const other = await jwtUser();
    const member = await jwtUser();
    await api("POST", `/v1/rooms/${room.roomId}/members`, { token: member.token });
    const hostOnly: [string, string, unknown][] = [
      ["POST", `/v1/rooms/${room.roomId}/live`, undefined],
      ["POST", `/v1/rooms/${room.roomId}/heartbeat`, undefined],
      ["POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { userId: member.userId }],
      ["POST", `/v1/rooms/${room.roomId}/close`, undefined],
    ];
    for (const [method, path, body] of hostOnly) {
      const response = await api(method, path, { token: other.token, body });
      expect([path, response.status, response.body.error.code]).toEqual([path, 403, "not_room_host"]);
    }
    // Kicking someone else's co-host.
    await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: member.userId } });
    await api("POST", `/v1/rooms/${room.roomId}/cohosts`, { token: member.token });
    const kick = await api("DELETE", `/v1/rooms/${room.roomId}/cohosts/${member.userId}`, { token: other.token });
    expect([kick.status, kick.body.error.code]).toEqual([403, "not_room_host"]);
    expect((await api("GET", `/v1/rooms/${room.roomId}`, { token: other.token })).body.status).toBe("live");
  });

  it("refuses every room route to a logged-out caller", async () => {
    const { userId, password } = await newUser();
    const login = await api("POST", "/v1/sessions", { body: { userId, password } });
    const token = login.body.token as string;
    const created = await api("POST", "/v1/rooms", { token, body: { title: "short-lived" } });
    expect(created.status).toBe(201);
    await api("DELETE", "/v1/sessions/current", { token });
    const roomId = created.body.roomId;
    const routes: [string, string, unknown?][] = [
      ["POST", "/v1/rooms", { title: "x" }],
      ["GET", "/v1/rooms"],
      ["GET", `/v1/rooms/${roomId}`],
      ["POST", `/v1/rooms/${roomId}/live`],
      ["POST", `/v1/rooms/${roomId}/heartbeat`],
      ["POST", `/v1/rooms/${roomId}/members`],
      ["DELETE", `/v1/rooms/${roomId}/members/me`],
      ["GET", `/v1/rooms/${roomId}/members`],
      ["POST", `/v1/rooms/${roomId}/likes`, { count: 1 }],
      ["POST", `/v1/rooms/${roomId}/cohosts/invitations`, { userId: "someone" }],
      ["POST", `/v1/rooms/${roomId}/cohosts`],
      ["DELETE", `/v1/rooms/${roomId}/cohosts/someone`],
      ["POST", `/v1/rooms/${roomId}/close`],
      ["GET", `/v1/rooms/${roomId}/summary`],
      ["GET", `/v1/rooms/${roomId}/recordings`],
      ["GET", "/v1/replays"],
    ];
    for (const [method, path, body] of routes) {
      const response = await api(method, path, { token, body });
      expect([method, path, response.status]).toEqual([method, path, 401]);
    }
    expect((await getItem({ pk: `ROOM#${roomId}`, sk: "ROOM" }))?.status).toBe("created");
  });

  it("lets only a member with a live invitation go on mic, and only a current member be invited", async () => {
    const { host, room } = await liveRoom();
    const stranger = await jwtUser();
    const invitee = await jwtUser();
    const notInvited = await jwtUser();
    const notMember = await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: stranger.userId } });
    expect([notMember.status, notMember.body.error.code]).toEqual([409, "not_a_member"]);
    for (const user of [invitee, notInvited]) await api("POST", `/v1/rooms/${room.roomId}/members`, { token: user.token });
    const uninvited = await api("POST", `/v1/rooms/${room.roomId}/cohosts`, { token: notInvited.token });
    expect([uninvited.status, uninvited.body.error.code]).toEqual([403, "no_invitation"]);
    const self = await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: host.userId } });
    expect(self.status).toBe(409);
    await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: invitee.userId } });
    expect((await api("POST", `/v1/rooms/${room.roomId}/cohosts`, { token: invitee.token })).status).toBe(200);
    const twice = await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: invitee.userId } });
    expect([twice.status, twice.body.error.code]).toEqual([409, "already_cohost"]);
    // A co-host may leave by themself; the group is told.
    expect((await api("DELETE", `/v1/rooms/${room.roomId}/cohosts/${invitee.userId}`, { token: invitee.token })).body.onMic).toBe(false);
    const gone = await api("DELETE", `/v1/rooms/${room.roomId}/cohosts/${invitee.userId}`, { token: host.token });
    expect([gone.status, gone.body.error.code]).toEqual([404, "not_a_cohost"]);
    const messages = customMessages((await emulatorState()).groups.find((g) => g.groupId === room.groupId));
    expect(messages).toEqual([
      { type: "cohost_on", roomId: room.roomId, userId: invitee.userId },
      { type: "cohost_off", roomId: room.roomId, userId: invitee.userId, by: "self" },
    ]);
  });

  it("takes a co-host off the mic when they leave the room, and tells the group", async () => {
    const { host, room } = await liveRoom();
    const cohost = await jwtUser();
    await api("POST", `/v1/rooms/${room.roomId}/members`, { token: cohost.token });
    await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: cohost.userId } });
    expect((await api("POST", `/v1/rooms/${room.roomId}/cohosts`, { token: cohost.token })).status).toBe(200);
    expect((await api("DELETE", `/v1/rooms/${room.roomId}/members/me`, { token: cohost.token })).status).toBe(200);
    expect((await api("GET", `/v1/rooms/${room.roomId}`, { token: host.token })).body.cohosts).toEqual([]);
    // Leaving again changes nothing and tells nobody.
    await api("DELETE", `/v1/rooms/${room.roomId}/members/me`, { token: cohost.token });
    const messages = customMessages((await emulatorState()).groups.find((g) => g.groupId === room.groupId));
    expect(messages).toEqual([
      { type: "cohost_on", roomId: room.roomId, userId: cohost.userId },
      { type: "cohost_off", roomId: room.roomId, userId: cohost.userId, by: "left" },
    ]);
  });

  it("refuses an expired invitation", async () => {
    const { host, room } = await liveRoom();
    const invitee = await jwtUser();
    await api("POST", `/v1/rooms/${room.roomId}/members`, { token: invitee.token });
    await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: invitee.userId } });
    // Age the invitation in storage (the TTL default is 60 s; the test does not wait for it).
    const { UpdateCommand } = await import("../../shared/db/commands.js");
    const { testDb } = await import("../helpers.js");
    const db = testDb();
    await db.doc.send(new UpdateCommand({ TableName: db.table, Key: { pk: `ROOM#${room.roomId}`, sk: `INVITE#${invitee.userId}` }, UpdateExpression: "SET expiresAt = :past", ExpressionAttributeValues: { ":past": Date.now() - 1 } }));
    db.doc.destroy();
    const late = await api("POST", `/v1/rooms/${room.roomId}/cohosts`, { token: invitee.token });
    expect([late.status, late.body.error.code]).toEqual([403, "no_invitation"]);
  });

  it("caps co-hosts at MAX_COHOSTS", async () => {
    const { host, room } = await liveRoom();
    const users = await Promise.all(Array.from({ length: 4 }, () => jwtUser()));
    for (const user of users) await api("POST", `/v1/rooms/${room.roomId}/members`, { token: user.token });
    for (const user of users.slice(0, 3)) {
      await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: user.userId } });
      expect((await api("POST", `/v1/rooms/${room.roomId}/cohosts`, { token: user.token })).status).toBe(200);
    }
    const fourth = await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: users[3]!.userId } });
    expect([fourth.status, fourth.body.error.code]).toEqual([409, "too_many_cohosts"]);
  });
});

describe("heartbeats", () => {
  it("is 403 from anyone but the host and writes nothing; tells the host when the room is closed", async () => {
    const { host, room } = await liveRoom();
    const before = await getItem({ pk: `ROOM#${room.roomId}`, sk: "ROOM" });
    const other = await jwtUser();
    const refused = await api("POST", `/v1/rooms/${room.roomId}/heartbeat`, { token: other.token });
    expect([refused.status, refused.body.error.code]).toEqual([403, "not_room_host"]);
    expect(await getItem({ pk: `ROOM#${room.roomId}`, sk: "ROOM" })).toEqual(before);

    const beat = await api("POST", `/v1/rooms/${room.roomId}/heartbeat`, { token: host.token });
    expect(beat.body.status).toBe("live");
    const after = await getItem({ pk: `ROOM#${room.roomId}`, sk: "ROOM" });
    expect(after!.lastHeartbeatAt).toBeGreaterThanOrEqual(before!.lastHeartbeatAt);
    expect(after!.gsi1sk).toMatch(new RegExp(`^0*${after!.lastHeartbeatAt}#`));

    await api("POST", `/v1/rooms/${room.roomId}/close`, { token: host.token });
    const closed = await api("POST", `/v1/rooms/${room.roomId}/heartbeat`, { token: host.token });
    expect([closed.status, closed.body.status]).toEqual([200, "closed"]);
  });
});

describe("members", () => {
  it("keeps counts exact under concurrent joins, duplicate joins and leaves, never below zero", async () => {
    const { room } = await liveRoom();
    const users = await Promise.all(Array.from({ length: 30 }, () => jwtUser()));
    // Everyone joins twice at once; the first ten leave twice at once, and three never-joined leave.
    await Promise.all(users.flatMap((user) => [0, 1].map(() => api("POST", `/v1/rooms/${room.roomId}/members`, { token: user.token }))));
    const strangers = await Promise.all([jwtUser(), jwtUser(), jwtUser()]);
    await Promise.all([
      ...users.slice(0, 10).flatMap((user) => [0, 1].map(() => api("DELETE", `/v1/rooms/${room.roomId}/members/me`, { token: user.token }))),
      ...strangers.map((user) => api("DELETE", `/v1/rooms/${room.roomId}/members/me`, { token: user.token })),
    ]);
    const view = await api("GET", `/v1/rooms/${room.roomId}`, { token: users[0]!.token });
    expect(view.body.counts).toMatchObject({ online: 20, totalViewers: 30 });

    // The member list holds exactly the 20 present, across pages.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api("GET", `/v1/rooms/${room.roomId}/members?limit=7${cursor ? `&cursor=${cursor}` : ""}`, { token: users[0]!.token });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.body.items.map((m: { userId: string }) => m.userId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(users.slice(10).map((u) => u.userId).sort());

    // Rejoining counts online again but not as a new distinct viewer.
    await api("POST", `/v1/rooms/${room.roomId}/members`, { token: users[0]!.token });
    expect((await api("GET", `/v1/rooms/${room.roomId}`, { token: users[0]!.token })).body.counts).toMatchObject({ online: 21, totalViewers: 30 });
  });

  it("does not let the host join as a viewer", async () => {
    const { host, room } = await liveRoom();
    const response = await api("POST", `/v1/rooms/${room.roomId}/members`, { token: host.token });
    expect([response.status, response.body.error.code]).toEqual([409, "host_is_not_a_viewer"]);
  });

  it("allocates distinct room ids under concurrent creates", async () => {
    const hosts = await Promise.all(Array.from({ length: 12 }, () => jwtUser("host")));
    const created = await Promise.all(hosts.map((host) => api("POST", "/v1/rooms", { token: host.token, body: { title: "race" } })));
    expect(created.map((r) => r.status)).toEqual(hosts.map(() => 201));
    const ids = created.map((r) => r.body.roomId);
    expect(new Set(ids).size).toBe(ids.length);
    const groups = new Set((await emulatorState()).groups.map((g) => g.groupId));
    for (const response of created) expect(groups.has(response.body.groupId)).toBe(true);
  });
});

describe("close when Tencent Cloud fails", () => {
  const effects = [
    { action: "send_group_msg", kind: "notify", code: 10002 },
    { action: "destroy_group", kind: "destroyGroup", code: 10002 },
    { action: "DismissRoom", kind: "dismissRoom", code: "InternalError" },
    { action: "DropLiveStream", kind: "dropStream", code: "InternalError" },
  ];

  it.each(effects)("still closes when $action fails, and the outbox holds exactly that effect", async ({ action, kind, code }) => {
    const { host, room } = await liveRoom();
    await startPushing(room.streamId);
    const match = action === "DismissRoom" ? `"RoomId":${room.roomId}` : action === "DropLiveStream" ? room.streamId : room.groupId;
    const disarm = await injectFault({ action, match, code });
    try {
      const closed = await api("POST", `/v1/rooms/${room.roomId}/close`, { token: host.token });
      expect(closed.status).toBe(200);
      // A failed notice holds the destroy too: the group must hear room_closed first.
      expect(closed.body).toMatchObject({ status: "closed", pendingEffects: kind === "notify" ? 2 : 1 });
    } finally {
      await disarm();
    }
    for (const effect of effects) {
      const entry = await getItem({ pk: `OUTBOX#${room.roomId}:close:${effect.kind}`, sk: "OUTBOX" });
      if (kind === "notify" && effect.kind === "destroyGroup") {
        expect(entry).toMatchObject({ status: "pending", attempts: 0 });
      } else if (effect.kind === kind) {
        expect(entry).toMatchObject({ status: "pending", attempts: 1, lastError: expect.stringContaining(String(code)) });
        expect(entry!.gsi1pk).toMatch(/^OUTBOX#/);
      } else {
        expect(entry).toMatchObject({ status: "done" });
        expect(entry!.gsi1pk).toBeUndefined();
      }
    }
    expect((await getItem({ pk: `ROOM#${room.roomId}`, sk: "ROOM" }))?.status).toBe("closed");
  });

  it("closes when Tencent Cloud is unreachable for every effect", async () => {
    const { host, room } = await liveRoom();
    const disarms = await Promise.all([
      injectFault({ action: "send_group_msg", match: room.groupId, drop: true }),
      injectFault({ action: "destroy_group", match: room.groupId, httpStatus: 502 }),
      injectFault({ action: "DismissRoom", match: `"RoomId":${room.roomId}`, drop: true }),
      injectFault({ action: "DropLiveStream", match: room.streamId, httpStatus: 503 }),
    ]);
    try {
      const closed = await api("POST", `/v1/rooms/${room.roomId}/close`, { token: host.token });
      expect(closed.status).toBe(200);
      expect(closed.body.pendingEffects).toBe(4);
    } finally {
      await Promise.all(disarms.map((disarm) => disarm()));
    }
  });

  it("refuses to create a room when IM cannot create the group, with 502 and no room", async () => {
    const host = await jwtUser("host");
    const disarm = await injectFault({ action: "create_group", match: `"Owner_Account":"${host.userId}"`, code: 10036, message: "too many AVChatRooms" });
    try {
      const response = await api("POST", "/v1/rooms", { token: host.token, body: { title: "no group" } });
      expect([response.status, response.body.error.code]).toEqual([502, "upstream_unavailable"]);
      expect(response.body.error.message).toContain("10036");
      // The room written before the group was taken back.
      const hosting = await getItem({ pk: `USER#${host.userId}`, sk: "HOSTING" });
      expect(hosting?.roomId).toEqual(expect.any(Number));
      expect(await getItem({ pk: `ROOM#${hosting!.roomId}`, sk: "ROOM" })).toBeUndefined();
    } finally {
      await disarm();
    }
  });

  it("drops an invitation that IM could not deliver", async () => {
    const { host, room } = await liveRoom();
    const invitee = await jwtUser();
    await api("POST", `/v1/rooms/${room.roomId}/members`, { token: invitee.token });
    const disarm = await injectFault({ action: "sendmsg", match: invitee.userId, code: 20003 });
    try {
      const response = await api("POST", `/v1/rooms/${room.roomId}/cohosts/invitations`, { token: host.token, body: { userId: invitee.userId } });
      expect(response.status).toBe(502);
    } finally {
      await disarm();
    }
    expect(await getItem({ pk: `ROOM#${room.roomId}`, sk: `INVITE#${invitee.userId}` })).toBeUndefined();
    expect((await api("POST", `/v1/rooms/${room.roomId}/cohosts`, { token: invitee.token })).status).toBe(403);
  });
});
