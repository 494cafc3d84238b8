/**
 * The secrets the local stack runs with. They are public (they are in this repository), so
 * configuration refuses every one of them unless `ONAIR_STACK=local` says this is the local
 * stack: a deployment that forgot to set a secret fails at cold start instead of trusting
 * callbacks and admin calls anyone could sign.
 */
export const localSecrets = {
  TENCENT_SECRET_KEY: "local-usersig-key-0123456789abcdef",
  IM_CALLBACK_TOKEN: "local-im-callback-token",
  CSS_CALLBACK_KEY: "local-css-callback-key",
  TRTC_CALLBACK_KEY: "localTrtcCallbackKey",
  CSS_PUSH_KEY: "local-css-push-key",
  ONAIR_ADMIN_KEY: "local-admin-key-0123456789",
  VOD_CALLBACK_TOKEN: "local-vod-callback-token",
} as const;

/** The variable and value the local stack (`npm start`, the tests) sets to allow its own secrets. */
export const localStackMarker = { name: "ONAIR_STACK", value: "local" } as const;

/**
 * How `.env.example` marks a value the operator must replace. Configuration refuses any value
 * that still starts with it, wherever it runs: the example file is as public as this one.
 */
export const examplePlaceholderPrefix = "replace-with-";
