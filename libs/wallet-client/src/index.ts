// The API's and the worker's client of the wallet service (TCP); the messages are libs/contracts'.
export * from './wallet-client';
export * from './wallet-client.module';
export * from './message-signature';
