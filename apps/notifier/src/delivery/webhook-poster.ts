import { UrlPolicy, hostOf } from '@flashdrop/webhooks';
import { request as httpRequest, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

/** What one POST got: the status, or why there was none. */
export interface PostResult {
  readonly statusCode?: number;
  readonly error?: string;
  readonly durationMs: number;
}

/**
 * One delivery attempt: POST the body to the webhook's URL, at most `timeoutMs` from start to
 * status line. The connection goes only to addresses the URL policy allows, checked at connect
 * time (`guardedLookup` resolves the name and hands the socket the checked address; an IP
 * literal is checked here), so a name that now resolves to a private address is refused even
 * though it was public when the webhook was registered. No redirects are followed (a 3xx is a
 * failed attempt), no connection is pooled, and the answer's body is not read.
 */
export class WebhookPoster {
  constructor(
    private readonly policy: UrlPolicy,
    private readonly timeoutMs: number,
  ) {}

  post(url: string, body: string, headers: Record<string, string>): Promise<PostResult> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ error: 'not a URL', durationMs: 0 });
    }
    const host = hostOf(target);
    if (isIP(host) && !this.policy.addressAllowed(host)) {
      return Promise.resolve({
        error: `${host} is not an address webhooks may reach`,
        durationMs: 0,
      });
    }
    const options: RequestOptions = {
      method: 'POST',
      agent: false,
      lookup: this.policy.guardedLookup as RequestOptions['lookup'],
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Flashdrop-Webhooks/1',
      },
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<PostResult>((resolve) => {
      let settled = false;
      const settle = (result: Omit<PostResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...result, durationMs: elapsed() });
      };
      const req = send(target, options, (res) => {
        settle({ statusCode: res.statusCode });
        // The status is all a delivery needs: drop the answer's body and the connection.
        res.destroy();
      });
      const timer = setTimeout(() => {
        settle({ error: `no answer within ${this.timeoutMs} ms` });
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) =>
        settle({ error: error.code ? `${error.code}: ${error.message}` : error.message }),
      );
      req.end(body);
    });
  }
}
