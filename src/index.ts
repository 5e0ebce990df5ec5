export { startServer, type Switchboard, type ServerOptions } from './server.js';
export { loadConfig, defaultConfig, type Config } from './config/config.js';
export { SystemClock, VirtualClock, type Clock } from './util/clock.js';
export { TestSwitchboard, type TestSwitchboardOptions, type VirtualCallData, type PlacedCall } from './testing/harness.js';
export { WebhookReceiver, type ReceivedWebhook } from './testing/webhook-receiver.js';
