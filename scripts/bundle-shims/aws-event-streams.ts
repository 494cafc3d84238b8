/**
 * The AWS SDK's event-stream codec, which its HTTP protocol imports for operations that stream
 * events. DynamoDB has none, so nothing here is ever called; were one added, it fails by name
 * instead of sending a request the codec should have framed.
 */
const unsupported = (): never => {
  throw new Error("event streams are left out of onair's bundles (scripts/bundle-shims/aws-event-streams.ts); DynamoDB has none");
};

export const eventStreamSerdeProvider = unsupported;
export class EventStreamSerde {
  constructor() {
    unsupported();
  }
}
