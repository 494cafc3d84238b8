import { getConfig } from "../../shared/config/index.js";
import { functionConfigFields } from "../../shared/config/functions.js";
import { createDb } from "../../shared/db/index.js";
import { createScfHandler } from "../../shared/http/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { createRoomsApp } from "./app.js";

// Cold start: config validated and clients built once per container.
const config = getConfig(functionConfigFields.rooms);
export const app = createRoomsApp({ db: createDb(config), config, tencent: createTencentDeps(config) });
export const main_handler = createScfHandler(app);
