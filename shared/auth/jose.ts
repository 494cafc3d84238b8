// What onair uses of jose, in a module of its own: jwt.ts imports it on the first JWT, and a
// bundle keeps only these two (an `import("jose")` would keep all of jose).
export { createRemoteJWKSet, jwtVerify } from "jose";
