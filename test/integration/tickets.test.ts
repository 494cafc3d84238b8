import { describe, expect, it } from "vitest";
import { decodePrivateMapKey, UserSigSigner } from "../../shared/tencent/index.js";
import { api, emulatorState, emulatorUrl, jwtUser, jwtUserNamed } from "../helpers.js";

type User = { userId: string; token: string };

async function createdRoom(host: User) {
  const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "Ticketed show" } });
  expect(created.status).toBe(201);
  return created.body.roomId as number;
}

async function liveRoom(host: User) {
  const roomId = await createdRoom(host);
  expect((await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token })).status).toBe(200);
  return roomId;
}

const ticket = (roomId: number, user: User) => api("POST", `/v1/rooms/${roomId}/ticket`, { token: user.token });
const userSig = async (user: User) => (await api("POST", "/v1/usersig", { token: user.token })).body.userSig as string;

/** What a client SDK's enterRoom / switchRole does at TRTC, through the emulator. */
async function trtc(action: "enter" | "switch-role", request: { userId: string; userSig?: string; roomId: number; role: "anchor" | "audience"; privateMapKey?: string }) {
  const response = await fetch(`${emulatorUrl()}/_control/trtc/${action}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
  return (await response.json()) as { code: number; message: string };
}

describe("POST /v1/rooms/{roomId}/ticket", () => {
  it("gives the host of a created room every privilege, for that room, user and a few minutes", async () => {
    const host = await jwtUser("host");
    const roomId = await createdRoom(host);
    const response = await ticket(roomId, host);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ roomId, userId: host.userId, role: "host", privilegeMap: 255 });
    const grant = decodePrivateMapKey(response.body.privateMapKey);
    expect(grant).toMatchObject({ userId: host.userId, roomId, privilegeMap: 255, sdkAppId: Number(process.env.TENCENT_SDKAPPID) });
    const lifetime = grant.expiresAtSeconds - Date.now() / 1000;
    expect(lifetime).toBeGreaterThan(200);
    expect(lifetime).toBeLessThanOrEqual(301);
    expect(Date.parse(response.body.expiresAt)).toBe(grant.expiresAtSeconds * 1000);
  });

  it("gives a joined viewer enter and receive only (170), and an on-mic co-host all but create (254)", async () => {
    const host = await jwtUser("host");
    const [viewer, guest] = [await jwtUser(), await jwtUser()];
    const roomId = await liveRoom(host);
    for (const user of [viewer, guest]) await api("POST", `/v1/rooms/${roomId}/members`, { token: user.token });
    const viewerTicket = await ticket(roomId, viewer);
    expect([viewerTicket.body.role, viewerTicket.body.privilegeMap]).toEqual(["viewer", 2 | 8 | 32 | 128]);
    expect(decodePrivateMapKey(viewerTicket.body.privateMapKey).privilegeMap).toBe(170);

    // Invited but not yet on mic: still a viewer.
    await api("POST", `/v1/rooms/${roomId}/cohosts/invitations`, { token: host.token, body: { userId: guest.userId } });
    expect((await ticket(roomId, guest)).body.role).toBe("viewer");
    const onMic = await api("POST", `/v1/rooms/${roomId}/cohosts`, { token: guest.token });
    expect(onMic.body.ticket).toMatchObject({ role: "cohost", privilegeMap: 254, userId: guest.userId, roomId });
    expect(decodePrivateMapKey(onMic.body.ticket.privateMapKey).privilegeMap).toBe(254);
    expect((await ticket(roomId, guest)).body.role).toBe("cohost");

    // Off mic again: back to a viewer's ticket.
    await api("DELETE", `/v1/rooms/${roomId}/cohosts/${guest.userId}`, { token: host.token });
    expect((await ticket(roomId, guest)).body.role).toBe("viewer");
  });

  it("issues nothing to a stranger (403), in a closed room (409), an unknown room (404) or without a token (401)", async () => {
    const host = await jwtUser("host");
    const [stranger, viewer] = [await jwtUser(), await jwtUser()];
    const roomId = await liveRoom(host);
    await api("POST", `/v1/rooms/${roomId}/members`, { token: viewer.token });
    const refused = await ticket(roomId, stranger);
    expect([refused.status, refused.body.error.code]).toEqual([403, "not_in_room"]);
    expect(refused.body.privateMapKey).toBeUndefined();
    // Leaving ends the viewer's right to a ticket.
    const left = await jwtUser();
    await api("POST", `/v1/rooms/${roomId}/members`, { token: left.token });
    await api("DELETE", `/v1/rooms/${roomId}/members/me`, { token: left.token });
    expect((await ticket(roomId, left)).status).toBe(403);

    await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token });
    for (const user of [host, viewer]) {
      const closed = await ticket(roomId, user);
      expect([closed.status, closed.body.error.code]).toEqual([409, "room_closed"]);
    }
    expect((await ticket(999_999_999, host)).status).toBe(404);
    expect((await api("POST", `/v1/rooms/${roomId}/ticket`)).status).toBe(401);
    expect((await api("POST", "/v1/rooms/abc/ticket", { token: host.token })).status).toBe(400);
  });
});

describe("TRTC room entry with room-entry protection (emulator)", () => {
  it("lets the host create and enter their own room as anchor, and refuses entry without a ticket", async () => {
    const host = await jwtUser("host");
    const roomId = await liveRoom(host);
    const sig = await userSig(host);
    expect((await trtc("enter", { userId: host.userId, userSig: sig, roomId, role: "anchor" })).code).toBe(-100006);
    const key = (await ticket(roomId, host)).body.privateMapKey;
    expect(await trtc("enter", { userId: host.userId, userSig: sig, roomId, role: "anchor", privateMapKey: key })).toMatchObject({ code: 0 });
    expect((await trtc("enter", { userId: host.userId, userSig: "forged", roomId, role: "anchor", privateMapKey: key })).code).toBe(-100018);
  });

  it("refuses an expired ticket and one signed with another key", async () => {
    const host = await jwtUser("host");
    const roomId = await liveRoom(host);
    const sig = await userSig(host);
    const expired = new UserSigSigner(Number(process.env.TENCENT_SDKAPPID), process.env.TENCENT_SECRET_KEY!).issuePrivateMapKey(host.userId, roomId, 255, -10);
    expect((await trtc("enter", { userId: host.userId, userSig: sig, roomId, role: "anchor", privateMapKey: expired.userSig })).code).toBe(-100006);
    const forged = new UserSigSigner(Number(process.env.TENCENT_SDKAPPID), "someone-elses-key-0123456789abcdef").issuePrivateMapKey(host.userId, roomId, 255, 300);
    expect((await trtc("enter", { userId: host.userId, userSig: sig, roomId, role: "anchor", privateMapKey: forged.userSig })).code).toBe(-100006);
  });

  it("keeps a viewer from switching to anchor", async () => {
    const host = await jwtUser("host");
    const viewer = await jwtUser();
    const roomId = await liveRoom(host);
    await trtc("enter", { userId: host.userId, userSig: await userSig(host), roomId, role: "anchor", privateMapKey: (await ticket(roomId, host)).body.privateMapKey });
    await api("POST", `/v1/rooms/${roomId}/members`, { token: viewer.token });
    const key = (await ticket(roomId, viewer)).body.privateMapKey;
    const sig = await userSig(viewer);
    expect((await trtc("enter", { userId: viewer.userId, userSig: sig, roomId, role: "anchor", privateMapKey: key })).code).toBe(-100006);
    expect((await trtc("enter", { userId: viewer.userId, userSig: sig, roomId, role: "audience", privateMapKey: key })).code).toBe(0);
    expect((await trtc("switch-role", { userId: viewer.userId, roomId, role: "anchor" })).code).toBe(-100006);
    expect((await trtc("switch-role", { userId: viewer.userId, roomId, role: "anchor", privateMapKey: key })).code).toBe(-100006);
  });

  it("keeps a host from pushing into another host's room", async () => {
    const [alice, bob] = [await jwtUser("host"), await jwtUser("host")];
    const aliceRoom = await liveRoom(alice);
    const bobRoom = await liveRoom(bob);
    await trtc("enter", { userId: alice.userId, userSig: await userSig(alice), roomId: aliceRoom, role: "anchor", privateMapKey: (await ticket(aliceRoom, alice)).body.privateMapKey });
    const bobKey = (await ticket(bobRoom, bob)).body.privateMapKey;
    const intrusion = await trtc("enter", { userId: bob.userId, userSig: await userSig(bob), roomId: aliceRoom, role: "anchor", privateMapKey: bobKey });
    expect(intrusion.code).toBe(-100006);
    expect((await ticket(aliceRoom, bob)).status).toBe(403);
  });

  it("lets an invited co-host switch to anchor with the ticket the on-mic answer carries", async () => {
    const host = await jwtUser("host");
    const guest = await jwtUser();
    const roomId = await liveRoom(host);
    await trtc("enter", { userId: host.userId, userSig: await userSig(host), roomId, role: "anchor", privateMapKey: (await ticket(roomId, host)).body.privateMapKey });
    await api("POST", `/v1/rooms/${roomId}/members`, { token: guest.token });
    const viewerKey = (await ticket(roomId, guest)).body.privateMapKey;
    expect((await trtc("enter", { userId: guest.userId, userSig: await userSig(guest), roomId, role: "audience", privateMapKey: viewerKey })).code).toBe(0);
    await api("POST", `/v1/rooms/${roomId}/cohosts/invitations`, { token: host.token, body: { userId: guest.userId } });
    const onMic = await api("POST", `/v1/rooms/${roomId}/cohosts`, { token: guest.token });
    expect((await trtc("switch-role", { userId: guest.userId, roomId, role: "anchor", privateMapKey: onMic.body.ticket.privateMapKey })).code).toBe(0);
  });

  it.each(["host", "self"] as const)("removes a co-host taken off the mic (by %s) from the TRTC room", async (by) => {
    const host = await jwtUser("host");
    const guest = await jwtUser();
    const roomId = await liveRoom(host);
    await trtc("enter", { userId: host.userId, userSig: await userSig(host), roomId, role: "anchor", privateMapKey: (await ticket(roomId, host)).body.privateMapKey });
    await api("POST", `/v1/rooms/${roomId}/members`, { token: guest.token });
    await api("POST", `/v1/rooms/${roomId}/cohosts/invitations`, { token: host.token, body: { userId: guest.userId } });
    const onMic = await api("POST", `/v1/rooms/${roomId}/cohosts`, { token: guest.token });
    await trtc("enter", { userId: guest.userId, userSig: await userSig(guest), roomId, role: "anchor", privateMapKey: onMic.body.ticket.privateMapKey });
    const inRoom = async () => (await emulatorState()).trtc.rooms.find((room) => room.roomId === roomId)?.members.map((member) => member.userId);
    expect(await inRoom()).toContain(guest.userId);
    await api("DELETE", `/v1/rooms/${roomId}/cohosts/${guest.userId}`, { token: (by === "host" ? host : guest).token });
    expect(await inRoom()).toEqual([host.userId]);
  });
});

describe("users named like built-in object properties", () => {
  const named = jwtUserNamed;

  it("refuses __proto__ as an identity: objects read from JSON cannot hold it as a key", async () => {
    const response = await api("POST", "/v1/usersig", { token: (await named("__proto__")).token });
    expect([response.status, response.body.error.code]).toEqual([403, "reserved_identity"]);
  });

  it.each(["constructor", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "__defineGetter__"])(
    "%s is no co-host of a stranger's room: no ticket, no mic, no say over its moderation",
    async (userId) => {
      const host = await jwtUser("host");
      const roomId = await liveRoom(host);
      const user = await named(userId);
      expect((await ticket(roomId, user)).status).toBe(403);
      const onMic = await api("POST", `/v1/rooms/${roomId}/cohosts`, { token: user.token });
      expect([onMic.status, onMic.body.error?.code]).toEqual([403, "no_invitation"]);
      expect((await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body.cohosts).toEqual([]);
      const t = Math.floor(Date.now() / 1000) + 600;
      await fetch(`${emulatorUrl()}/_control/callbacks/live`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ body: { event_type: 317, streamId: `${process.env.TENCENT_SDKAPPID}_${roomId}_${userId}_main`, suggestion: "Block", label: "Porn", t } }),
      });
      expect((await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body.status).toBe("live");
      // Once invited and on mic, the same name is a co-host like any other.
      await api("POST", `/v1/rooms/${roomId}/members`, { token: user.token });
      expect((await api("POST", `/v1/rooms/${roomId}/cohosts/invitations`, { token: host.token, body: { userId } })).status).toBe(201);
      expect((await api("POST", `/v1/rooms/${roomId}/cohosts`, { token: user.token })).body.ticket.role).toBe("cohost");
      expect((await api("DELETE", `/v1/rooms/${roomId}/cohosts/${userId}`, { token: host.token })).status).toBe(200);
      expect((await emulatorState()).groups.length).toBeGreaterThan(0);
    },
  );
});
