/**
 * The gift catalog. Versioned with the code: a price change is a new `catalogVersion` and a
 * deploy, so every function instance bills from the same list it was built with.
 */
export interface Gift {
  giftId: string;
  name: string;
  /** Price in coins, debited from the sender and credited to the host. */
  price: number;
  /** Heat one gift adds to the room. */
  heat: number;
}

export const catalogVersion = "2026-11-01";

export const gifts: readonly Gift[] = Object.freeze([
  { giftId: "rose", name: "Rose", price: 1, heat: 1 },
  { giftId: "heart", name: "Heart", price: 5, heat: 6 },
  { giftId: "cake", name: "Cake", price: 20, heat: 25 },
  { giftId: "rocket", name: "Rocket", price: 100, heat: 150 },
  { giftId: "castle", name: "Castle", price: 1000, heat: 1600 },
]);

const byId = new Map(gifts.map((gift) => [gift.giftId, gift]));

export const findGift = (giftId: string): Gift | undefined => byId.get(giftId);

/** Most gifts of one kind in one message or request. */
export const maxGiftCount = 99;
