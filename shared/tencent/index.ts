export { UserSigSigner, decodeUserSig, type IssuedUserSig } from "./usersig.js";
