import { decodePrivateMapKey, type UserSigSigner } from "../../shared/tencent/index.js";

/**
 * TRTC's side of room entry, standing in for a client SDK's `enterRoom` and `switchRole`.
 * The UserSig is always checked. With room-entry protection on (the console's "enable
 * permission key" switch), so is the PrivateMapKey: its signature, user, app, room, expiry
 * and privilege bits. Failures carry TRTC's own codes.
 */
export const trtcErrors = {
  /** ERR_SERVER_INFO_PRIVILEGE_FLAG_ERROR: the permission ticket does not allow this. */
  privilege: -100006,
  /** ERR_SERVER_INFO_ECDH_GET_TINYID: the UserSig does not verify. */
  userSig: -100018,
  /** ERR_ROOM_ENTER_FAIL: e.g. switching role in a room one is not in. */
  enter: -3301,
} as const;

export type TrtcRole = "anchor" | "audience";

export interface TrtcRoomState {
  roomId: number;
  members: { userId: string; role: TrtcRole }[];
}

export interface TrtcState {
  /** The emulated app's room-entry protection (PrivateMapKey required). */
  roomProtection: boolean;
  rooms: TrtcRoomState[];
}

export class TrtcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const bits = { createRoom: 1, enterRoom: 2, send: 4 | 16 | 64 } as const;

export interface EnterRequest {
  userId: string;
  userSig: string;
  roomId: number;
  role: TrtcRole;
  privateMapKey?: string;
}

export function createTrtc(signer: UserSigSigner, state: TrtcState) {
  const roomOf = (roomId: number) => state.rooms.find((room) => room.roomId === roomId);
  /** The key each member entered with, checked again when they switch role without a new one. */
  const enteredWith = new Map<string, string | undefined>();

  /** The privilege bits `key` grants `userId` in `roomId`, or a TRTC failure. */
  function grantedBits(userId: string, roomId: number, key: string | undefined): number {
    if (!state.roomProtection) return 255;
    if (!key) throw new TrtcFailure(trtcErrors.privilege, "room-entry protection is on: privateMapKey is required");
    if (signer.verify(key, userId) !== "ok") throw new TrtcFailure(trtcErrors.privilege, "privateMapKey does not verify for this user");
    let grant;
    try {
      grant = decodePrivateMapKey(key);
    } catch {
      throw new TrtcFailure(trtcErrors.privilege, "privateMapKey carries no privileges");
    }
    if (grant.userId !== userId || grant.sdkAppId !== signer.sdkAppId) throw new TrtcFailure(trtcErrors.privilege, "privateMapKey is for another user or app");
    if (grant.roomId !== roomId) throw new TrtcFailure(trtcErrors.privilege, `privateMapKey is for room ${grant.roomId}, not ${roomId}`);
    if (grant.expiresAtSeconds < Math.floor(Date.now() / 1000)) throw new TrtcFailure(trtcErrors.privilege, "privateMapKey has expired");
    return grant.privilegeMap;
  }

  function requireRole(granted: number, role: TrtcRole) {
    if (role === "anchor" && (granted & bits.send) === 0) throw new TrtcFailure(trtcErrors.privilege, "privateMapKey does not allow sending audio or video");
  }

  return {
    enterRoom(request: EnterRequest) {
      if (signer.verify(request.userSig, request.userId) !== "ok") throw new TrtcFailure(trtcErrors.userSig, "userSig verification failed");
      const granted = grantedBits(request.userId, request.roomId, request.privateMapKey);
      if ((granted & bits.enterRoom) === 0) throw new TrtcFailure(trtcErrors.privilege, "privateMapKey does not allow entering the room");
      let room = roomOf(request.roomId);
      if (!room) {
        if ((granted & bits.createRoom) === 0) throw new TrtcFailure(trtcErrors.privilege, "the room does not exist and privateMapKey does not allow creating it");
        room = { roomId: request.roomId, members: [] };
        state.rooms.push(room);
      }
      requireRole(granted, request.role);
      room.members = room.members.filter((member) => member.userId !== request.userId);
      room.members.push({ userId: request.userId, role: request.role });
      enteredWith.set(`${request.roomId}|${request.userId}`, request.privateMapKey);
      return room;
    },

    /** `switchRole(role, privateMapKey?)`: a new key may come with it, else the one entered with is checked. */
    switchRole(request: { userId: string; roomId: number; role: TrtcRole; privateMapKey?: string }) {
      const member = roomOf(request.roomId)?.members.find((m) => m.userId === request.userId);
      if (!member) throw new TrtcFailure(trtcErrors.enter, `${request.userId} is not in room ${request.roomId}`);
      const key = request.privateMapKey ?? enteredWith.get(`${request.roomId}|${request.userId}`);
      requireRole(grantedBits(request.userId, request.roomId, key), request.role);
      if (request.privateMapKey) enteredWith.set(`${request.roomId}|${request.userId}`, request.privateMapKey);
      member.role = request.role;
      return roomOf(request.roomId)!;
    },

    /** TRTC's server-side RemoveUser: the users leave the room at once. */
    remove(roomId: number, userIds: string[]) {
      const room = roomOf(roomId);
      if (room) room.members = room.members.filter((member) => !userIds.includes(member.userId));
    },

    dismiss(roomId: number) {
      state.rooms = state.rooms.filter((room) => room.roomId !== roomId);
    },
  };
}

export type Trtc = ReturnType<typeof createTrtc>;
