import { existsSync } from "node:fs";
import { join } from "node:path";
import { getConfig } from "../../shared/config/index.js";
import { functionConfigFields } from "../../shared/config/functions.js";
import { createDb } from "../../shared/db/index.js";
import { folderDocsSource } from "../../shared/docs/index.js";
import { createScfHandler } from "../../shared/http/index.js";
import { createUserSigApp } from "./app.js";

// Cold start: config validated and clients built once per container.
const config = getConfig(functionConfigFields.usersig);
const db = createDb(config);
// The docs' files sit beside the bundle (see scripts/build.ts) and are read only when asked for.
const docsDir = typeof __dirname === "string" ? join(__dirname, "docs") : undefined;
export const app = createUserSigApp({ db, config, docs: config.docsEnabled && docsDir && existsSync(docsDir) ? folderDocsSource(docsDir) : undefined });
export const main_handler = createScfHandler(app);
