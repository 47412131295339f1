// Brands' webhooks: the `webhooks` schema (endpoints, deliveries, attempts) and its only doors,
// the event types and how published events map onto them, the signature, the URL rule and the
// sealing of secrets. Used by the API (a brand's routes) and the notifier (deliveries).
export * from './webhook-types';
export * from './signature';
export * from './secret-box';
export * from './url-policy';
export * from './endpoint-records';
export * from './delivery-records';
export * from './webhooks-database';
