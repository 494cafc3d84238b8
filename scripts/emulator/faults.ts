import type { ServerResponse } from "node:http";
import { send } from "./types.js";

/**
 * A fault for the next matching calls. `action` is an IM command (`destroy_group`) or a cloud
 * API action (`DropLiveStream`); `match` limits it to requests whose body contains that text
 * (so parallel tests do not disturb each other); `times` limits how often it fires.
 */
export interface Fault {
  action: string;
  match?: string;
  times?: number;
  /** IM ErrorCode (number) or cloud API Error.Code (string). */
  code?: number | string;
  message?: string;
  delayMs?: number;
  /** Close the connection without answering (a network failure). */
  drop?: boolean;
  /** Answer with this HTTP status and no JSON body. */
  httpStatus?: number;
}

/** The fault for this call, if one is armed; counts it down. */
export function takeFault(faults: Map<string, Fault>, action: string, raw: Buffer): Fault | undefined {
  for (const [id, fault] of faults) {
    if (fault.action !== action || (fault.match && !raw.toString("utf8").includes(fault.match))) continue;
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) faults.delete(id);
    }
    return fault;
  }
  return undefined;
}

/** Answer as the fault says; false for a pure delay (the call is then served normally). */
export async function applyFault(fault: Fault, response: ServerResponse, failure: () => unknown): Promise<boolean> {
  if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
  if (fault.drop) {
    response.socket?.destroy();
    return true;
  }
  if (fault.httpStatus) {
    response.writeHead(fault.httpStatus);
    response.end("emulated failure");
    return true;
  }
  if (fault.code !== undefined) {
    send(response, 200, failure());
    return true;
  }
  return false;
}
