import { NotImplementedError } from "../../shared/errors/index.js";
import { createApp, createScfHandler } from "../../shared/http/index.js";

// The im-callback function's routes arrive with their issue; until then every call gets a 501 envelope.
export const app = createApp({ service: "im-callback" });
app.all("*", () => {
  throw new NotImplementedError("im-callback is not implemented yet");
});
export const main_handler = createScfHandler(app);
