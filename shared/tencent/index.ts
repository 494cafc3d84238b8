export { createCloudClients, cloudCall, type CloudClients } from "./cloud.js";
export { liveAppName, recorderIdleSeconds, recorderUserId, runCommand, type TencentCommand, type TencentDeps } from "./commands.js";
export { isTencentError, TencentError } from "./errors.js";
export { customElem, groupGoneCodes, ImClient, type ImMessageBody } from "./im.js";
export { UserSigSigner, decodeUserSig, type IssuedUserSig } from "./usersig.js";
export { createTencentDeps } from "./deps.js";
