/**
 * The daemon's HTTP endpoint (`run --metrics-address HOST:PORT`): `/metrics`
 * (Prometheus text format), `/healthz` (the process answers) and `/readyz`
 * (the first pass has settled every device). Bound to 127.0.0.1 unless a
 * host is given: the series name every disk of the host.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsAddress {
  host: string;
  port: number;
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; undefined when it is none of them. */
export function parseMetricsAddress(text: string): MetricsAddress | undefined {
  const match = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):)?(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  return { host: match[1] ?? match[2] ?? DEFAULT_METRICS_HOST, port };
}

export interface MetricsServerOptions {
  address: MetricsAddress;
  /** The exposition text and its content type. */
  metrics(): Promise<{ text: string; contentType: string }>;
  ready(): boolean;
}

export interface MetricsServer {
  /** Where it listens, e.g. "http://127.0.0.1:9000". */
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, contentType = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'Content-Type': contentType });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'method not allowed\n');
    if (path === '/healthz') return reply(200, 'ok\n');
    if (path === '/readyz') {
      return options.ready() ? reply(200, 'ready\n') : reply(503, 'first pass not settled yet\n');
    }
    if (path === '/metrics') {
      options.metrics().then(
        ({ text, contentType }) => reply(200, text, contentType),
        (error: unknown) => reply(500, `cannot collect metrics: ${String(error)}\n`),
      );
      return;
    }
    reply(404, 'not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.address.port, options.address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
