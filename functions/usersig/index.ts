import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { createScfHandler } from "../../shared/http/index.js";
import { createUserSigApp } from "./app.js";

// Cold start: config validated and clients built once per container.
const config = getConfig();
export const app = createUserSigApp({ db: createDb(config), config });
export const main_handler = createScfHandler(app);
