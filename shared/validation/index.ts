import { config, locales, safeParse, type core } from "zod/mini";
import { lazy } from "../lazy/index.js";

// zod/mini loads no locale: without English messages every issue would read "Invalid input",
// and no answer could say what is wrong. Set on the first check, not at load (the build keeps
// only English: scripts/bundle-shims/zod-locales.ts).
const english = lazy(() => config(locales.en()));

/**
 * Check `value` against a zod/mini schema, with zod's English messages. Schemas are written with
 * zod/mini, zod's tree-shakable API (`import * as z from "zod/mini"`): a bundle carries the checks
 * it uses, where zod classic brought all of itself (188 KiB) into every function.
 */
export function validate<T>(schema: core.$ZodType<T>, value: unknown) {
  english();
  return safeParse(schema, value);
}
