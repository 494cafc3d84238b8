/**
 * form-data for tencentcloud-sdk-nodejs: the SDK builds one only for multipart (file upload)
 * requests, which onair never makes. Keeps form-data and mime-db (134 KB) out of the bundles.
 */
export default class MultipartUnsupported {
  constructor() {
    throw new Error("multipart cloud API requests are not bundled into onair's functions");
  }
}
