import { existsSync } from "node:fs";
import { join } from "node:path";
import { reservedAccounts } from "../../shared/auth/index.js";
import { getConfig } from "../../shared/config/index.js";
import { functionConfigFields } from "../../shared/config/functions.js";
import { createDb } from "../../shared/db/index.js";
import { folderDocsSource } from "../../shared/docs/index.js";
import { createScfHandler } from "../../shared/http/index.js";
import { createLogger } from "../../shared/log/index.js";
import { createUserSigApp } from "./app.js";

// Cold start: config validated and clients built once per container.
const config = getConfig(functionConfigFields.usersig);
const db = createDb(config);
// The docs' files sit beside the bundle (see scripts/build.ts) and are read only when asked for.
const docsDir = typeof __dirname === "string" ? join(__dirname, "docs") : undefined;
export const app = createUserSigApp({ db, config, docs: config.docsEnabled && docsDir && existsSync(docsDir) ? folderDocsSource(docsDir) : undefined });
export const main_handler = createScfHandler(app);

// Not awaited: the first request need not wait for an operator's warning.
reservedAccounts(db, config.imAdminUsers).then(
  (userIds) => userIds.length > 0 && createLogger({ service: "usersig" }).warn("accounts hold reserved IM admin ids; no token may act as them; delete them", { userIds }),
  (error: unknown) => createLogger({ service: "usersig" }).warn("could not check for accounts under reserved ids", { error }),
);
