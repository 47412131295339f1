import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The development key (32 zero-to-31 bytes, base64): refused when NODE_ENV=production. */
export const DEV_WEBHOOK_SECRET_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString(
  'base64',
);

/**
 * Webhook secrets at rest: AES-256-GCM under a key from the deployment's config
 * (WEBHOOK_SECRET_KEY), so a reader of the database (a backup, a replica, a stolen dump) holds
 * only ciphertext and cannot sign a delivery. The API seals a secret when it creates a webhook
 * and shows it once; the notifier opens it to sign each attempt. A secret must be readable
 * again (signing needs the secret itself, not a hash of it), hence encryption, not hashing.
 * Form: `v1.<iv>.<tag>.<ciphertext>`, each base64url; the webhook id is the associated data, so
 * a sealed secret copied onto another webhook's row does not open.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(keyBase64: string, nodeEnv: string) {
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length !== 32) throw new Error('WEBHOOK_SECRET_KEY must be 32 bytes, base64');
    if (nodeEnv === 'production' && keyBase64 === DEV_WEBHOOK_SECRET_KEY) {
      throw new Error('WEBHOOK_SECRET_KEY is the development key: set your own in production');
    }
    this.key = key;
  }

  /** A fresh secret to show the brand once: `whsec_` + 32 random bytes, base64url. */
  static newSecret(): string {
    return `whsec_${randomBytes(32).toString('base64url')}`;
  }

  seal(secret: string, webhookId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(webhookId));
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  open(sealed: string, webhookId: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined)
      throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'))
      .setAAD(Buffer.from(webhookId))
      .setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(data, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}
