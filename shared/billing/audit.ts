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
  consistent: boolean;
}

const sumOf = (entries: Pick<LedgerEntry, "account" | "amount">[], account: LedgerEntry["account"]) =>
  entries.filter((entry) => entry.account === account).reduce((total, entry) => total + entry.amount, 0);

export function auditWallet(userId: string, wallet: { balance: number; earnings: number }, entries: Pick<LedgerEntry, "account" | "amount">[]): WalletAudit {
  const ledgerBalance = sumOf(entries, "balance");
  const ledgerEarnings = sumOf(entries, "earnings");
  return { userId, ...wallet, ledgerBalance, ledgerEarnings, consistent: ledgerBalance === wallet.balance && ledgerEarnings === wallet.earnings && wallet.balance >= 0 };
}

/** A callback gift still `charged` or `rejected` this long after its charge missed its refund. */
export const refundOverdueMs = 10 * 60_000;

/** Running totals over every item of the table, fed page by page. */
export class TableAudit {
  credited = 0;
  spent = 0;
  received = 0;
  balances = 0;
  earnings = 0;
  ledgerEntries = 0;
  wallets = 0;
  readonly stale: string[] = [];
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
      const age = this.nowMs - Number(item.createdAt);
      if (item.status === "in_progress" && age > inFlightLeaseMs && item.expiresAt !== undefined && Number(item.expiresAt) > this.nowMs) this.stale.push(`${pk} in_progress for ${Math.round(age / 1000)} s`);
      if ((item.status === "charged" || item.status === "rejected") && age > refundOverdueMs) this.stale.push(`${pk} ${String(item.status)} for ${Math.round(age / 1000)} s: its refund is overdue`);
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
