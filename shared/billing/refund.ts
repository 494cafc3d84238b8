import { GetCommand } from "../db/commands.js";
import { transact, type Db } from "../db/index.js";
// The store module, not the rooms index: the outbox runs refunds, and the rooms service imports the outbox.
import { roomKey } from "../rooms/store.js";
import { idempotencyKey } from "../idempotency/index.js";
import { giftMovementItems, movementId, type GiftCharge } from "./items.js";

/** Callback-gift record states from which the charge goes back to the sender. */
const refundable = ["charged", "rejected"];

/**
 * Give a callback gift's coins back, once: the outbox runs this for the `refundGift` entry the
 * charge wrote beside itself, once its window for IM's delivery report has passed. A gift IM
 * delivered (`delivered`, or `allowed` from earlier versions), one already refunded, or one never charged is left alone, so any number of runs refund at most once. When
 * the room has closed since, its end summary gives the income back too.
 * Throws when the store does not answer; the outbox then retries.
 */
export async function refundGift(db: Db, scope: string): Promise<"refunded" | "nothing_to_refund"> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: idempotencyKey(scope), ConsistentRead: true }));
  const charge = Item?.charge as GiftCharge | undefined;
  if (!Item || !charge || !refundable.includes(String(Item.status))) return "nothing_to_refund";
  // A room closed since the charge keeps its end summary in step with its counters.
  const { Item: room } = await db.doc.send(new GetCommand({ TableName: db.table, Key: roomKey(charge.roomId), ConsistentRead: true }));
  const closed = room?.status === "closed" && room.summary !== undefined;
  const result = await transact(db, {
    room: closed
      ? {
          Update: {
            TableName: db.table,
            Key: roomKey(charge.roomId),
            UpdateExpression: "SET summary.giftIncome = summary.giftIncome - :amount, summary.heat = summary.heat - :heat",
            ConditionExpression: "#status = :closed",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":amount": charge.amount, ":heat": charge.heat, ":closed": "closed" },
          },
        }
      : {
          ConditionCheck: {
            TableName: db.table,
            Key: roomKey(charge.roomId),
            // A close reading the room's final counters waits for nothing: the refund waits for it.
            ConditionExpression: "#status <> :closed AND attribute_not_exists(closingAt)",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":closed": "closed" },
          },
        },
    record: {
      Update: {
        TableName: db.table,
        Key: idempotencyKey(scope),
        UpdateExpression: "SET #status = :refunded",
        ConditionExpression: "#status IN (:charged, :rejected)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":refunded": "refunded", ":charged": "charged", ":rejected": "rejected" },
      },
    },
    ...giftMovementItems(db.table, charge, movementId(scope, Number(Item.createdAt)), Date.now(), -1),
  });
  if (result.ok) return "refunded";
  // Refunded (or let through) by a run that overlapped this one: nothing left to do.
  if (result.failed.includes("record")) return "nothing_to_refund";
  if (result.failed.includes("room")) throw new Error("the room is closing or closed since the refund began; the outbox retries it with the summary");
  throw new Error("the refund stayed contended; the outbox retries it");
}
