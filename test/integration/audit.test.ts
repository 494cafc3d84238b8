import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { PutCommand, UpdateCommand } from "../../shared/db/commands.js";
import { describe, expect, it } from "vitest";
import { createDb, setUpTable } from "../../shared/db/index.js";
import { api, jwtUser, testDb } from "../helpers.js";

const run = promisify(execFile);
const adminKey = () => process.env.ONAIR_ADMIN_KEY!;

describe("wallet audit route", () => {
  it("reports a wallet's ledger against its balance and earnings", async () => {
    const user = await jwtUser();
    await api("POST", `/v1/admin/wallets/${user.userId}/credits`, { body: { amount: 7, reason: "audit" }, headers: { "x-admin-key": adminKey(), "idempotency-key": randomBytes(8).toString("hex") } });
    const audit = await api("GET", `/v1/admin/audit/wallets/${user.userId}`, { headers: { "x-admin-key": adminKey() } });
    expect(audit.body).toEqual({ userId: user.userId, balance: 7, earnings: 0, ledgerBalance: 7, ledgerEarnings: 0, staleRecords: [], consistent: true });
  });

  it("lists a charge whose request died in progress without calling the wallet inconsistent, and an overdue refund as inconsistent", async () => {
    const host = await jwtUser();
    const room = (await api("POST", "/v1/rooms", { token: host.token, body: { title: "audit" } })).body as { roomId: number };
    await api("POST", `/v1/rooms/${room.roomId}/live`, { token: host.token });
    const fan = await jwtUser();
    await api("POST", `/v1/admin/wallets/${fan.userId}/credits`, { body: { amount: 7, reason: "audit" }, headers: { "x-admin-key": adminKey(), "idempotency-key": randomBytes(8).toString("hex") } });
    const key = randomBytes(8).toString("hex");
    expect((await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId: room.roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": key } })).status).toBe(201);
    const scope = `app:${fan.userId}:${key}`;
    const db = testDb();
    const age = async (status: string, ms: number) =>
      db.doc.send(new UpdateCommand({ TableName: db.table, Key: { pk: `IDEMP#${scope}`, sk: "IDEMP" }, UpdateExpression: "SET #status = :status, createdAt = :at", ExpressionAttributeNames: { "#status": "status" }, ExpressionAttributeValues: { ":status": status, ":at": Date.now() - ms } }));
    const audit = async () => (await api("GET", `/v1/admin/audit/wallets/${fan.userId}`, { headers: { "x-admin-key": adminKey() } })).body;
    // The request died after billing a minute ago: the charge stands, nothing is owed.
    await age("in_progress", 60_000);
    expect(await audit()).toMatchObject({ balance: 6, staleRecords: [{ scope, status: "in_progress", overdue: false }], consistent: true });
    // A charge waiting eleven minutes for its refund: the sweeper is not running.
    await age("charged", 11 * 60_000);
    expect(await audit()).toMatchObject({ staleRecords: [{ scope, status: "charged", overdue: true }], consistent: false });
    db.doc.destroy();
  });

  it("refuses a caller without the admin key, and a malformed user id naming the field", async () => {
    expect((await api("GET", "/v1/admin/audit/wallets/someone")).status).toBe(401);
    const bad = await api("GET", `/v1/admin/audit/wallets/${"x".repeat(40)}`, { headers: { "x-admin-key": adminKey() } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("userId");
  });
});

describe("npm run audit", () => {
  it("prints a consistent verdict for a table that agrees, and exits 1 naming what disagrees", async () => {
    // Its own table: the shared one changes under the other test files while the scan runs.
    const table = `audit_${randomBytes(4).toString("hex")}`;
    // DynamoDB Local keeps tables per region: the script must look in the one the table is in.
    const region = "ap-guangzhou";
    const dynamodb = { endpoint: process.env.DYNAMODB_ENDPOINT, region, table };
    await setUpTable(dynamodb);
    const db = createDb({ dynamodb, awsCredentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! } });
    const put = (item: Record<string, unknown>) => db.doc.send(new PutCommand({ TableName: table, Item: item }));
    await put({ pk: "WALLET#ann", sk: "WALLET", type: "wallet", userId: "ann", balance: 10 });
    await put({ pk: "LEDGER#ann#0", sk: "000000000000001#c1-c", type: "ledger", userId: "ann", kind: "credit", account: "balance", amount: 10 });
    const audit = () => run("npx", ["tsx", "scripts/audit.ts"], { env: { ...process.env, DYNAMODB_TABLE: table, DYNAMODB_REGION: region, AUDIT_PAGE_SIZE: "1", AUDIT_PAGES_PER_SECOND: "50" } });
    // A request that died in progress is reported, not counted as a disagreement.
    await put({ pk: "IDEMP#app:ann:k1", sk: "IDEMP", type: "idempotency", status: "in_progress", createdAt: Date.now() - 60_000, expiresAt: Date.now() + 3_600_000 });
    const good = await audit();
    expect(good.stdout).toMatch(/^audit: consistent \(1 wallets, 1 ledger entries, credited 10, spent 0, balances 10/m);
    expect(good.stdout).toMatch(/note: IDEMP#app:ann:k1 in_progress for 6\d s/);

    await put({ pk: "WALLET#bob", sk: "WALLET", type: "wallet", userId: "bob", balance: 5 });
    const bad = await audit().then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stdout).toContain("bob: balance 5 / earnings 0, ledger says 0 / 0");
    expect(bad?.stdout).toMatch(/^audit: INCONSISTENT/m);
    db.doc.destroy();
  }, 60_000);
});
