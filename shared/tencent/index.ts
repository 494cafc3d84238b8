export { createCloudClients, cloudCall, type CloudClients } from "./cloud.js";
export { liveAppName, recorderIdleSeconds, recorderUserId, runCommand, type TencentCommand, type TencentDeps } from "./commands.js";
export { isTencentError, TencentError } from "./errors.js";
export { canonicalJson, customElem, frequencyErrorCodes, groupGoneCodes, ImClient, type ImMessageBody, type MsgPriority } from "./im.js";
export { UserSigSigner, decodePrivateMapKey, decodeUserSig, type IssuedUserSig, type PrivateMapKeyGrant } from "./usersig.js";
export { createTencentDeps } from "./deps.js";
