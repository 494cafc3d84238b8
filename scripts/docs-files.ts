import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { docsAssets } from "../shared/docs/index.js";
import { offlineOpenApiDocument } from "./openapi.js";

/** Where npm put Swagger UI's prebuilt files. */
export const swaggerUiDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/**
 * The docs page's files, by their path in a function's folder: Swagger UI's bundle, stylesheet
 * and licence, and the whole API's document (the usersig bundle holds only its own routes).
 * The build puts them beside the usersig bundle, outside it, so they cost its cold start nothing.
 */
export function docsFiles(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const name of [...Object.keys(docsAssets), "LICENSE"]) files[`docs/${name}`] = readFileSync(join(swaggerUiDir, name));
  files["docs/openapi.json"] = Buffer.from(JSON.stringify(offlineOpenApiDocument()));
  return files;
}
