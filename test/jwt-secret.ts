/** HS256 key of the test run's app identity provider (see global-setup). */
export const testJwtSecret = "onair-test-identity-provider-secret-0123";
