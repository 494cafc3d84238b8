import { getConfig } from "../../shared/config/index.js";
import { functionConfigFields } from "../../shared/config/functions.js";
import { createDb } from "../../shared/db/index.js";
import { createScfHandler } from "../../shared/http/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { createVodMedia } from "../../shared/tencent/vod.js";
import { createLiveCallbackApp } from "./app.js";

// Cold start: config validated and clients built once per container.
const config = getConfig(functionConfigFields["live-callback"]);
export const app = createLiveCallbackApp({ db: createDb(config), config, tencent: createTencentDeps(config), vod: createVodMedia(config) });
export const main_handler = createScfHandler(app);
