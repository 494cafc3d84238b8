import { describe, expect, it } from "vitest";
import { api, emulatorState, emulatorUrl, jwtUser } from "../helpers.js";

const fire = async (command: string, body: unknown) =>
  (await fetch(`${emulatorUrl()}/_control/callbacks/im`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ command, body }) })).json() as Promise<{
    status: number;
    reply: unknown;
  }>;

async function liveRoom() {
  const host = await jwtUser("host");
  const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "Boundaries" } });
  await api("POST", `/v1/rooms/${created.body.roomId}/live`, { token: host.token });
  return { host, roomId: created.body.roomId as number, groupId: created.body.groupId as string };
}

describe("IM callback commands", () => {
  it.each(["constructor", "__proto__", "hasOwnProperty", "toString", "valueOf"])("acknowledges the signed command %s without acting or echoing", async (command) => {
    const response = await fire(command, { marker: "echo-me" });
    expect(response).toEqual({ status: 200, reply: { ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0 } });
  });
});

describe("room group ids", () => {
  it("cannot be told from the room number: 64 random bits after it", async () => {
    const [first, second] = [await liveRoom(), await liveRoom()];
    for (const room of [first, second]) expect(room.groupId).toMatch(new RegExp(`^room_${room.roomId}_[0-9a-f]{16}$`));
    expect(first.groupId.split("_")[2]).not.toBe(second.groupId.split("_")[2]);
    const group = (await emulatorState()).groups.find((g) => g.groupId === first.groupId);
    expect(group).toMatchObject({ type: "AVChatRoom", destroyed: false });
  });

  it("counts no member joining a group that only borrows the room's number", async () => {
    const { host, roomId, groupId } = await liveRoom();
    const viewer = await jwtUser();
    const impostor = `room_${roomId}_${"0".repeat(16)}`;
    expect(impostor).not.toBe(groupId);
    await fire("Group.CallbackAfterNewMemberJoin", { GroupId: impostor, Type: "AVChatRoom", NewMemberList: [{ Member_Account: viewer.userId }] });
    expect((await api("GET", `/v1/rooms/${roomId}/members`, { token: host.token })).body.items).toEqual([]);
    await fire("Group.CallbackAfterNewMemberJoin", { GroupId: groupId, Type: "AVChatRoom", NewMemberList: [{ Member_Account: viewer.userId }] });
    expect((await api("GET", `/v1/rooms/${roomId}/members`, { token: host.token })).body.items.map((m: { userId: string }) => m.userId)).toEqual([viewer.userId]);
  });
});
