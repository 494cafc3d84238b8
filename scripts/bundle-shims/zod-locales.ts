/** zod's error messages in English only: the other 40-odd locales are 260 KB of every bundle. */
export { default as en } from "zod/v4/locales/en.js";
