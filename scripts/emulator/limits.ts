import type { MsgPriority } from "./types.js";

/** IM's frequency limits (reference §2.1, §2.3): what the emulator enforces. */
export interface ImLimitSettings {
  /** Messages per second one live group (AVChatRoom) delivers; past it, all but High are dropped. */
  groupMessagesPerSecond: number;
  /** Calls per second of each REST command for the whole SDKAppID; past it, 60007. */
  restCallsPerSecond: number;
}

/** The documented figures. */
export const imLimitDefaults: ImLimitSettings = { groupMessagesPerSecond: 40, restCallsPerSecond: 200 };

/** Env overrides for the local stack: `EMULATOR_IM_GROUP_MESSAGES_PER_SECOND`, `EMULATOR_IM_REST_CALLS_PER_SECOND`. */
export function imLimitsFromEnv(env: NodeJS.ProcessEnv): Partial<ImLimitSettings> {
  const read = (name: string) => (env[name] ? positive(Number(env[name]), name) : undefined);
  const limits: Partial<ImLimitSettings> = {};
  const group = read("EMULATOR_IM_GROUP_MESSAGES_PER_SECOND");
  const rest = read("EMULATOR_IM_REST_CALLS_PER_SECOND");
  if (group !== undefined) limits.groupMessagesPerSecond = group;
  if (rest !== undefined) limits.restCallsPerSecond = rest;
  return limits;
}

/** A body for `PUT /_control/im/limits`, checked strictly: unknown keys fail loudly. */
export function checkLimits(body: Record<string, unknown>): Partial<ImLimitSettings> {
  const known = new Set<string>(Object.keys(imLimitDefaults));
  const unknown = Object.keys(body).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new Error(`unknown limit ${unknown.join(", ")}; known: ${[...known].join(", ")}`);
  const limits: Partial<ImLimitSettings> = {};
  for (const key of known as Set<keyof ImLimitSettings>) if (body[key] !== undefined) limits[key] = positive(Number(body[key]), key);
  return limits;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** Events in the last second per key: a sliding one-second window, as IM counts per second. */
class SlidingWindow {
  private readonly events = new Map<string, number[]>();

  count(key: string, nowMs: number): number {
    const times = this.events.get(key);
    if (!times) return 0;
    while (times.length > 0 && times[0]! <= nowMs - 1000) times.shift();
    if (times.length === 0) this.events.delete(key);
    return times.length;
  }

  add(key: string, nowMs: number) {
    const times = this.events.get(key);
    if (times) times.push(nowMs);
    else this.events.set(key, [nowMs]);
  }
}

/**
 * IM's two limits. A REST command over its rate is refused (60007) and not counted; a group
 * message over the group's rate is accepted and dropped unless it is High priority, which IM
 * delivers first and always.
 */
export function createImLimits(settings: ImLimitSettings) {
  const rest = new SlidingWindow();
  const groups = new SlidingWindow();
  return {
    settings,
    /** Take a slot for a REST call of `command`; false when the app is over the command's rate. */
    admitRestCall(command: string, nowMs = Date.now()): boolean {
      if (rest.count(command, nowMs) >= settings.restCallsPerSecond) return false;
      rest.add(command, nowMs);
      return true;
    },
    /** Whether a group message is delivered; a delivered message takes a slot of the group's rate. */
    admitGroupMessage(groupId: string, priority: MsgPriority, nowMs = Date.now()): boolean {
      if (priority !== "High" && groups.count(groupId, nowMs) >= settings.groupMessagesPerSecond) return false;
      groups.add(groupId, nowMs);
      return true;
    },
  };
}

export type ImLimits = ReturnType<typeof createImLimits>;
