import { inFlightLeaseMs } from "../idempotency/index.js";
import type { LedgerEntry } from "./items.js";

/**
 * The ledger checks, pure: what a wallet's ledger says against what its items hold, and the
 * whole table's totals. Used by `GET /v1/admin/audit/wallets/{userId}` and `npm run audit`.
 */
export interface WalletAudit {
  userId: string;
  balance: number;
  earnings: number;
  ledgerBalance: number;
  ledgerEarnings: number;
  /** The wallet's recent charges whose idempotency record has not settled in time (see `staleRecordOf`). */
  staleRecords: StaleRecord[];
  consistent: boolean;
}

export interface StaleRecord {
  scope: string;
  status: string;
  ageSeconds: number;
  /** True when money is owed back: a refund that should have run. A request that died in progress owes nothing. */
  overdue: boolean;
}

/** A callback gift still `charged` or `rejected` this long after its charge missed its refund. */
export const refundOverdueMs = 10 * 60_000;

/**
 * An idempotency record that should have settled by now, or undefined. `in_progress` past its
 * lease: a request died after billing (the charge stands, its message is in the outbox; the
 * client's retry with the key finishes the answer), worth a look but not a disagreement.
 * `charged`/`rejected` past `refundOverdueMs`: IM never reported the message delivered and the
 * refund has not run, so the outbox is not being swept.
 */
export function staleRecordOf(record: { scope?: unknown; pk?: unknown; status?: unknown; createdAt?: unknown; expiresAt?: unknown }, nowMs: number): StaleRecord | undefined {
  const age = nowMs - Number(record.createdAt);
  if (record.expiresAt !== undefined && Number(record.expiresAt) <= nowMs) return undefined;
  const scope = String(record.scope ?? String(record.pk).slice("IDEMP#".length));
  const stale = { scope, status: String(record.status), ageSeconds: Math.round(age / 1000) };
  if (record.status === "in_progress" && age > inFlightLeaseMs) return { ...stale, overdue: false };
  if ((record.status === "charged" || record.status === "rejected") && age > refundOverdueMs) return { ...stale, overdue: true };
  return undefined;
}

const sumOf = (entries: Pick<LedgerEntry, "account" | "amount">[], account: LedgerEntry["account"]) =>
  entries.filter((entry) => entry.account === account).reduce((total, entry) => total + entry.amount, 0);

export function auditWallet(userId: string, wallet: { balance: number; earnings: number }, entries: Pick<LedgerEntry, "account" | "amount">[], staleRecords: StaleRecord[] = []): WalletAudit {
  const ledgerBalance = sumOf(entries, "balance");
  const ledgerEarnings = sumOf(entries, "earnings");
  const consistent = ledgerBalance === wallet.balance && ledgerEarnings === wallet.earnings && wallet.balance >= 0 && !staleRecords.some((record) => record.overdue);
  return { userId, ...wallet, ledgerBalance, ledgerEarnings, staleRecords, consistent };
}

/** Running totals over every item of the table, fed page by page. */
export class TableAudit {
  credited = 0;
  spent = 0;
  received = 0;
  balances = 0;
  earnings = 0;
  ledgerEntries = 0;
  wallets = 0;
  /** Overdue refunds: disagreements. */
  readonly stale: string[] = [];
  /** Requests that died in progress: reported, not disagreements. */
  readonly notices: string[] = [];
  private readonly ledgerByUser = new Map<string, { balance: number; earnings: number }>();
  private readonly walletByUser = new Map<string, { balance: number; earnings: number }>();

  constructor(private readonly nowMs: number) {}

  add(item: Record<string, unknown>) {
    const pk = String(item.pk);
    if (item.type === "wallet" || pk.startsWith("WALLET#")) {
      this.wallets++;
      this.balances += Number(item.balance ?? 0);
      this.userTotals(this.walletByUser, String(item.userId ?? pk.slice("WALLET#".length))).balance += Number(item.balance ?? 0);
    } else if (pk.startsWith("EARN#")) {
      this.earnings += Number(item.earnings ?? 0);
      this.userTotals(this.walletByUser, String(item.userId ?? pk.split("#")[1])).earnings += Number(item.earnings ?? 0);
    } else if (item.type === "ledger") {
      this.ledgerEntries++;
      const amount = Number(item.amount);
      if (item.kind === "credit") this.credited += amount;
      if (item.kind === "gift_sent" || item.kind === "gift_refund_sent") this.spent -= amount;
      if (item.kind === "gift_received" || item.kind === "gift_refund_received") this.received += amount;
      const totals = this.userTotals(this.ledgerByUser, String(item.userId));
      if (item.account === "balance") totals.balance += amount;
      else totals.earnings += amount;
    } else if (item.type === "idempotency") {
      const stale = staleRecordOf(item, this.nowMs);
      if (stale?.overdue) this.stale.push(`${pk} ${stale.status} for ${stale.ageSeconds} s: its refund is overdue`);
      else if (stale) this.notices.push(`${pk} in_progress for ${stale.ageSeconds} s: its request died after billing; the charge stands`);
    }
  }

  private userTotals(map: Map<string, { balance: number; earnings: number }>, userId: string) {
    let totals = map.get(userId);
    if (!totals) map.set(userId, (totals = { balance: 0, earnings: 0 }));
    return totals;
  }

  /** Every disagreement, as sentences; none means consistent. */
  problems(): string[] {
    const problems: string[] = [];
    if (this.credited - this.spent !== this.balances) problems.push(`credited ${this.credited} − spent ${this.spent} = ${this.credited - this.spent}, but the balances sum to ${this.balances}`);
    if (this.received !== this.earnings) problems.push(`gifts received ${this.received}, but the earnings sum to ${this.earnings}`);
    const users = new Set([...this.walletByUser.keys(), ...this.ledgerByUser.keys()]);
    for (const userId of users) {
      const held = this.walletByUser.get(userId) ?? { balance: 0, earnings: 0 };
      const ledger = this.ledgerByUser.get(userId) ?? { balance: 0, earnings: 0 };
      if (held.balance !== ledger.balance || held.earnings !== ledger.earnings) {
        problems.push(`${userId}: balance ${held.balance} / earnings ${held.earnings}, ledger says ${ledger.balance} / ${ledger.earnings}`);
      }
      if (held.balance < 0) problems.push(`${userId}: balance below zero (${held.balance})`);
    }
    return [...problems, ...this.stale];
  }
}
