import { reservedAccounts } from "../../shared/auth/index.js";
import { getConfig } from "../../shared/config/index.js";
import { functionConfigFields } from "../../shared/config/functions.js";
import { createDb } from "../../shared/db/index.js";
import { createScfHandler } from "../../shared/http/index.js";
import { createLogger } from "../../shared/log/index.js";
import { createUserSigApp } from "./app.js";

// Cold start: config validated and clients built once per container.
const config = getConfig(functionConfigFields.usersig);
const db = createDb(config);
export const app = createUserSigApp({ db, config });
export const main_handler = createScfHandler(app);

// Not awaited: the first request need not wait for an operator's warning.
reservedAccounts(db, config.imAdminUsers).then(
  (userIds) => userIds.length > 0 && createLogger({ service: "usersig" }).warn("accounts hold reserved IM admin ids; no token may act as them; delete them", { userIds }),
  (error: unknown) => createLogger({ service: "usersig" }).warn("could not check for accounts under reserved ids", { error }),
);
