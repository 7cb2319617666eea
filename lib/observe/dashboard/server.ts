/**
 * The dashboard's HTTP server: node:http, no framework. It listens on 127.0.0.1 (another host
 * only when asked) on a random free port, and answers only requests that carry the run's random
 * token (403 otherwise, compared in constant time), so other local users cannot read the run,
 * and only under its own name in `Host` (421 otherwise), so a web page cannot reach it through
 * DNS rebinding.
 * Routes: `/` the page, `/events` Server-Sent Events, `/state.json` the latest of each event,
 * `/report.html` the report once the run is done. Each event's latest value is retained and
 * replayed to a client that connects late, so a page opened mid-run shows everything at once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { IoError } from '../../core/errors.ts';
import { logger } from '../../core/stage.ts';

const log = logger('dashboard');

/** Options of {@link DashboardServer.listen}. */
export interface DashboardServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** The page's HTML, given the nonce its inline script and style must carry. */
  page: (nonce: string) => string;
  /** Milliseconds between keep-alive comments on idle event streams. Default 15000. */
  keepAliveMs?: number;
}

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** A token-protected local HTTP server that pushes events to the pages it serves. */
export class DashboardServer {
  /** The per-run secret every request must carry as `?token=`. */
  readonly token: string;
  readonly #server: Server;
  readonly #page: (nonce: string) => string;
  readonly #tokenDigest: Buffer;
  readonly #clients = new Set<ServerResponse>();
  readonly #retained = new Map<string, string>();
  #report: string | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #closed = false;
  #address: AddressInfo | undefined;

  private constructor(server: Server, options: DashboardServerOptions) {
    this.#server = server;
    this.#page = options.page;
    this.token = randomBytes(24).toString('base64url');
    this.#tokenDigest = digest(this.token);
  }

  /** Starts a server and resolves once it listens. */
  static async listen(options: DashboardServerOptions): Promise<DashboardServer> {
    const server = createServer();
    const dashboard = new DashboardServer(server, options);
    server.on('request', (req, res) => dashboard.#handle(req, res));
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          new IoError(
            `dashboard: cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
            {},
            { cause: error },
          ),
        );
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    dashboard.#address = server.address() as AddressInfo;
    server.on('error', (error) => log('server error: %s', error.message));
    const keepAliveMs = options.keepAliveMs ?? 15_000;
    dashboard.#keepAlive = setInterval(() => dashboard.#write(': keep-alive\n\n'), keepAliveMs);
    dashboard.#keepAlive.unref();
    log('listening on %s', dashboard.origin);
    return dashboard;
  }

  /** The port listened on. */
  get port(): number {
    return this.#address?.port ?? 0;
  }

  /** `http://host:port` (IPv6 hosts in brackets). */
  get origin(): string {
    const host = this.#address?.address ?? '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** The page's address, with the token. */
  get url(): string {
    return `${this.origin}/?token=${this.token}`;
  }

  /** Pages connected to the event stream now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** True once {@link DashboardServer.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends an event to every connected page. With `retain` (default true) it is also kept, as the
   * latest of its name, for pages that connect later and for `/state.json`.
   */
  send(event: string, data: unknown, retain = true): void {
    if (this.#closed) return;
    const json = JSON.stringify(data);
    if (retain) {
      // re-inserted so replay follows the order events last happened in
      this.#retained.delete(event);
      this.#retained.set(event, json);
    }
    if (this.#clients.size > 0) this.#write(frame(event, json));
  }

  /** Serves `html` at `/report.html` from now on (the report of the finished run). */
  setReport(html: string): void {
    this.#report = html;
  }

  /** Ends every event stream and stops listening; resolves once the port is closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
    log('closed %s', this.origin);
  }

  #write(chunk: string): void {
    for (const client of this.#clients) client.write(chunk);
  }

  #authorised(url: URL): boolean {
    const given = url.searchParams.get('token');
    if (given === null) return false;
    // digests have equal lengths, so the comparison takes the same time whatever was sent
    return timingSafeEqual(digest(given), this.#tokenDigest);
  }

  /**
   * DNS rebinding: a hostile page whose name resolves to 127.0.0.1 reaches this server from the
   * browser with its own name in `Host`. Only our own addresses pass: 127.0.0.1:port,
   * localhost:port, [::1]:port and the interface we listen on.
   */
  #hostAllowed(req: IncomingMessage): boolean {
    const host = req.headers.host?.toLowerCase();
    if (host === undefined) return false;
    const port = this.port;
    const listening = this.#address?.address;
    const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
    if (listening !== undefined)
      allowed.push(listening.includes(':') ? `[${listening}]:${port}` : `${listening}:${port}`);
    return allowed.includes(host);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#hostAllowed(req)) {
      res
        .writeHead(421, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
        .end('421 misdirected request: this dashboard answers only to its own address (127.0.0.1 or localhost)\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!this.#authorised(url)) {
      res
        .writeHead(403, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
        .end('403 forbidden: this dashboard needs the token printed with its address\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD' }).end();
      return;
    }
    switch (url.pathname) {
      case '/':
        return this.#sendPage(res);
      case '/events':
        return this.#openStream(req, res);
      case '/state.json':
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json' });
        res.end(`{${[...this.#retained].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
        return;
      case '/report.html': {
        const report = this.#report;
        if (report === undefined) {
          res
            .writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
            .end('the run has not finished yet\n');
          return;
        }
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
        });
        res.end(report);
        return;
      }
      default:
        res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end('404 not found\n');
    }
  }

  #sendPage(res: ServerResponse): void {
    const nonce = randomBytes(16).toString('base64');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    });
    res.end(this.#page(nonce));
  }

  #openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write('retry: 2000\n\n');
    for (const [event, json] of this.#retained) res.write(frame(event, json));
    this.#clients.add(res);
    const drop = (): void => {
      this.#clients.delete(res);
    };
    res.on('close', drop);
    res.on('error', drop);
  }
}

/** One Server-Sent Event; JSON has no raw newlines, so the data fits on one line. */
function frame(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}
