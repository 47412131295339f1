import { checkSignature, SIGNATURE_HEADER } from '@flashdrop/webhooks';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * The demo's stand-in for a brand's system: a webhook receiver on loopback that does what
 * docs/fulfilment.md asks of one (check the signature over the raw body, refuse a stale
 * timestamp, answer 2xx once stored, dedupe on `id`) and counts what it verified.
 */
export class DemoReceiver {
  secret = '';
  /** Delivery ids verified and stored, once each (a retry of a stored one is answered 200 again). */
  readonly verified = new Map<string, string>();
  refused = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const header = req.headers[SIGNATURE_HEADER.toLowerCase()];
        const check = checkSignature(
          typeof header === 'string' ? header : undefined,
          this.secret,
          body,
        );
        if (check !== 'ok') {
          this.refused++;
          res.writeHead(400).end(check);
          return;
        }
        const event = JSON.parse(body) as { id: string; type: string };
        this.verified.set(event.id, event.type);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/flashdrop-webhooks`;
  }

  /** Verified deliveries by type. */
  byType(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const type of this.verified.values()) out[type] = (out[type] ?? 0) + 1;
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
