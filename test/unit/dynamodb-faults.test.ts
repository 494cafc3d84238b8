import { describe, expect, it } from "vitest";
import { checkFaults, parseFaults } from "../../scripts/local/dynamodb-faults.js";

describe("DYNAMODB_FAULTS", () => {
  it("reads rates and an operation filter", () => {
    expect(parseFaults("throttle=0.2,lost=0.12,cut=0.08,conflict=0.1,ops=TransactWriteItems+UpdateItem")).toEqual({
      throttle: 0.2,
      lost: 0.12,
      cut: 0.08,
      conflict: 0.1,
      operations: ["TransactWriteItems", "UpdateItem"],
    });
  });

  it("reads an empty value and off as a proxy with no faults", () => {
    expect(parseFaults("")).toEqual({ throttle: 0, lost: 0, cut: 0, conflict: 0 });
    expect(parseFaults("off")).toEqual({ throttle: 0, lost: 0, cut: 0, conflict: 0 });
  });

  it.each([
    ["an unknown fault", "slow=0.1", /unknown fault "slow"/],
    ["a rate over 1", "throttle=2", /throttle must be a rate/],
    ["a rate that is no number", "lost=lots", /lost must be a rate/],
    ["rates adding up to more than 1", "throttle=0.6,lost=0.6", /add up to at most 1/],
  ])("refuses %s, naming it", (_case, text, message) => {
    expect(() => parseFaults(text)).toThrow(message);
  });

  it("refuses a control body with an unknown field or a bad sequence, naming it", () => {
    expect(() => checkFaults({ throttle: 0.1, slow: 1 })).toThrow(/unknown field slow/);
    expect(() => checkFaults({ sequence: ["lost", "boom"] })).toThrow(/sequence must be a list/);
    expect(() => checkFaults({ match: "text" })).toThrow(/match must be a list/);
  });
});
