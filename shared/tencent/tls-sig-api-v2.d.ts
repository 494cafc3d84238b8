// tls-sig-api-v2 ships no types; this is the part onair uses.
declare module "tls-sig-api-v2/TLSSigAPIv2.js" {
  class Api {
    constructor(sdkappid: number, key: string);
    /** @param expire lifetime in seconds */
    genUserSig(userid: string, expire: number): string;
    /** @param expire lifetime in seconds; @param privilegeMap TRTC privilege bits (255 = all) */
    genPrivateMapKey(userid: string, expire: number, roomid: number, privilegeMap: number): string;
  }
  const TLSSigAPIv2: { Api: typeof Api };
  namespace TLSSigAPIv2 {
    type Api = InstanceType<typeof Api>;
  }
  export default TLSSigAPIv2;
}
