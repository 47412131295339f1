import { Webhooks1766100000000 } from './1766100000000-webhooks';

/** The `webhooks` schema's migrations, oldest first. Never edit one that has shipped. */
export const webhooksMigrations: (new () => object)[] = [Webhooks1766100000000];
