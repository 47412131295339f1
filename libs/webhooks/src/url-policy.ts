import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Where webhooks may point: the deployment's setting (WEBHOOK_ALLOWED_NETWORKS, NODE_ENV). */
export interface UrlPolicyOptions {
  /** CIDR ranges otherwise refused that this deployment allows (tests and the demo: loopback). */
  readonly allowedNetworks: string;
  readonly production: boolean;
}

export type UrlCheck =
  { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string };

/** Resolves a host name to every address it has (the system resolver, as connections do). */
export type Resolver = (host: string) => Promise<readonly string[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses: LookupAddress[]) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    ),
  );

/**
 * The one rule for where a delivery may go, used twice: when a brand registers a URL (the API
 * answers 400 to a refused one) and when the notifier connects (`guardedLookup`: the name is
 * resolved, every address checked, and the connection made to a checked address, so a name
 * that resolves somewhere else later, DNS rebinding, is refused too).
 *
 * Refused unless the deployment names its range: every address that is not public unicast
 * (private, loopback, link-local, unique-local, CGNAT, multicast, reserved, unspecified; an
 * IPv4-mapped IPv6 address counts as its IPv4 one). https is required, except http to a
 * loopback address outside production.
 */
export class UrlPolicy {
  private readonly allowed: [Address, number][];

  constructor(
    private readonly options: UrlPolicyOptions,
    private readonly resolve: Resolver = systemResolver,
  ) {
    this.allowed = parseNetworks(options.allowedNetworks);
  }

  /** Whether a connection may go to this address. */
  addressAllowed(text: string): boolean {
    if (!ipaddr.isValid(text)) return false;
    const address = ipaddr.process(text);
    if (address.range() === 'unicast') return true;
    return this.allowed.some(
      ([network, bits]) => network.kind() === address.kind() && address.match(network, bits),
    );
  }

  /** A URL as a brand gives it: its form, its scheme, and where its host resolves now. */
  async check(raw: string): Promise<UrlCheck> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, reason: 'url must be an absolute URL' };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return { ok: false, reason: 'url must be https' };
    }
    if (url.username || url.password) {
      return { ok: false, reason: 'url must not carry a user name or password' };
    }
    if (url.hash) return { ok: false, reason: 'url must not have a #fragment' };
    const host = hostOf(url);
    let addresses: readonly string[];
    try {
      addresses = isIP(host) ? [host] : await this.resolve(host);
    } catch {
      return { ok: false, reason: `url host ${host} does not resolve` };
    }
    if (addresses.length === 0) return { ok: false, reason: `url host ${host} does not resolve` };
    const refused = addresses.find((a) => !this.addressAllowed(a));
    if (refused !== undefined) {
      return {
        ok: false,
        reason: `url host ${host} resolves to ${refused}, a private, loopback or link-local address this deployment does not allow`,
      };
    }
    if (url.protocol === 'http:') {
      const loopback = addresses.every((a) => ipaddr.process(a).range() === 'loopback');
      if (!loopback || this.options.production) {
        return {
          ok: false,
          reason: 'url must be https (http only to a loopback address, outside production)',
        };
      }
    }
    return { ok: true, url };
  }

  /**
   * A `lookup` for `http.request`/`net.connect`: resolves the name, refuses the connection if
   * any address is not allowed, and hands the connection only checked addresses, so the
   * address checked is the address connected to. (An IP literal never reaches a lookup: check
   * it with `addressAllowed` before connecting.)
   */
  readonly guardedLookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string } | number,
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    const all = typeof options === 'object' && options.all === true;
    this.resolve(hostname).then(
      (addresses) => {
        const refused = addresses.find((a) => !this.addressAllowed(a));
        if (refused !== undefined || addresses.length === 0) {
          const error: NodeJS.ErrnoException = new Error(
            refused === undefined
              ? `${hostname} does not resolve`
              : `${hostname} resolves to ${refused}, which webhooks may not reach`,
          );
          error.code = 'EADDRNOTALLOWED';
          callback(error, all ? [] : '', 0);
          return;
        }
        const list = addresses.map((address) => ({ address, family: isIP(address) }));
        if (all) callback(null, list);
        else callback(null, list[0].address, list[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, all ? [] : '', 0),
    );
  };
}

/** The host as a resolver or an address check takes it (IPv6 literals without brackets). */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** `10.0.0.0/8,::1/128`: each a CIDR range; a bare address is its own /32 or /128. */
export function parseNetworks(list: string): [Address, number][] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (s.includes('/')) return ipaddr.parseCIDR(s);
      const address = ipaddr.parse(s);
      return [address, address.kind() === 'ipv4' ? 32 : 128];
    });
}

/** Whether a WEBHOOK_ALLOWED_NETWORKS value parses (the config checks it at boot). */
export function networksProblem(list: string): string | undefined {
  try {
    parseNetworks(list);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
