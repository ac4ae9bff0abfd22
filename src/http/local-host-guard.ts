// Local mode (no responder authentication) trusts whoever reaches it, which it keeps to this machine by listening on
// loopback only. A page on a rebinding domain (attacker.example resolving to 127.0.0.1) reaches it too, and to the
// browser that page is same-origin, so the cross-site and content-type checks pass: it could read every incident,
// acknowledge and resolve as the local responder, and post alerts. Its requests carry its own name in Host.
import type { RequestListener } from 'node:http';
import type { Config } from '../config.js';
import { isLocalMode, isLoopbackHost } from '../local-mode.js';

/** The listener itself when responders authenticate; in local mode, one that answers 421 to a Host that is not loopback or PUBLIC_URL's. */
export function localHostGuard(config: Config, listener: RequestListener): RequestListener {
  if (!isLocalMode(config)) return listener;
  const publicHost = new URL(config.publicUrl).hostname.replace(/\.$/, '').toLowerCase();
  return (req, res) => {
    const host = hostnameOf(req.headers.host);
    // A request with no Host at all does not come from a browser.
    // *.localhost names are loopback by RFC 6761, and browsers resolve them so themselves: no rebinding through them.
    if (host === null || isLoopbackHost(host) || host.endsWith('.localhost') || host === publicHost) return listener(req, res);
    req.resume();
    res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end(`Host ${JSON.stringify(req.headers.host)} is not this service: without responder authentication it answers only to localhost, 127.0.0.1, [::1] and PUBLIC_URL's host (${publicHost})\n`);
  };
}

function hostnameOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  try {
    return new URL(`http://${header}`).hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  } catch {
    return '';
  }
}
