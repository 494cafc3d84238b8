import { expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../shared/auth/index.js";

it("hashes with a per-user salt and verifies only the right password", async () => {
  const [first, second] = await Promise.all([hashPassword("correct horse"), hashPassword("correct horse")]);
  expect(first).not.toBe(second);
  expect(first).toMatch(/^scrypt\$32768\$8\$1\$/);
  expect(first).not.toContain("correct horse");
  expect(await verifyPassword("correct horse", first)).toBe(true);
  expect(await verifyPassword("correct horsf", first)).toBe(false);
  expect(await verifyPassword("correct horse", "garbage")).toBe(false);
});
