/**
 * DynamoDB's endpoint discovery, off unless a client turns it on (onair never does) and used by
 * none of DynamoDB's commands: its LRU cache and config options came along for nothing.
 */
export const NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS = {
  environmentVariableSelector: () => undefined,
  configFileSelector: () => undefined,
  default: undefined,
};

export const resolveEndpointDiscoveryConfig = <T extends object>(input: T): T => input;
