// A minimal HTTP/1.1 keep-alive client for the open-loop load generators: requests are written
// as ready-made bytes on a fixed set of sockets and answers are cut out of the stream by their
// content-length (or chunked encoding). It exists because node:http's client cost 0.2–0.26 ms of
// CPU per request on this machine, on the same two cores as the server it measures (autocannon,
// used by the closed loops, writes raw requests too). One request at a time per socket, no
// pipelining; requests beyond the sockets wait in order, and that wait counts in their latency.
import { Socket, connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

export type RawCallback = (error: Error | null, response?: RawResponse) => void;

interface Job {
  readonly request: Buffer;
  readonly callback: RawCallback;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY: Buffer = Buffer.alloc(0);
const TICK_MS = 2;

/** A POST request as bytes. */
export function rawPost(url: URL, headers: Record<string, string>, body: string): Buffer {
  const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

interface Parsed {
  readonly response: RawResponse;
  readonly rest: Buffer;
  readonly close: boolean;
}

/** One complete response at the start of `data`, or null while it is incomplete. */
export function parseResponse(data: Buffer): Parsed | null {
  const headerEnd = data.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const head = data.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  if (!head.startsWith('HTTP/1.') || !Number.isInteger(status)) {
    throw new Error(`not an HTTP response: ${head.slice(0, 80)}`);
  }
  const close = /\r\nconnection:\s*close/i.test(head);
  const bodyStart = headerEnd + HEADER_END.length;
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head))
    return parseChunked(data, bodyStart, status, close);
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
  if (data.length < bodyStart + length) return null;
  const body = data.toString('utf8', bodyStart, bodyStart + length);
  return { response: { status, body }, rest: data.subarray(bodyStart + length), close };
}

function parseChunked(data: Buffer, start: number, status: number, close: boolean): Parsed | null {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(data.toString('latin1', at, lineEnd), 16);
    if (!Number.isFinite(size)) throw new Error('bad chunk size');
    const chunkEnd = lineEnd + 2 + size + 2;
    if (data.length < chunkEnd) return null;
    if (size === 0) {
      const body = Buffer.concat(parts).toString('utf8');
      return { response: { status, body }, rest: data.subarray(chunkEnd), close };
    }
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = chunkEnd;
  }
}

/** One keep-alive socket; reconnects after a close or an error. */
class Connection {
  private socket?: Socket;
  private data: Buffer = EMPTY;
  private job?: Job;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly url: URL,
    private readonly timeoutMs: number,
    private readonly idle: (connection: Connection) => void,
  ) {}

  send(job: Job): void {
    this.job = job;
    this.timer = setTimeout(() => this.fail(new Error('timeout')), this.timeoutMs);
    (this.socket ??= this.open()).write(job.request);
  }

  destroy(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const socket = connect({ host: this.url.hostname, port: Number(this.url.port || 80) });
    socket.setNoDelay(true);
    // A replaced socket's late events concern nobody: only the current one's count.
    socket.on('data', (chunk: Buffer) => socket === this.socket && this.receive(chunk));
    socket.on('error', (error) => socket === this.socket && this.fail(error));
    socket.on('close', () => socket === this.socket && this.fail(new Error('socket closed')));
    this.data = EMPTY;
    return socket;
  }

  private receive(chunk: Buffer): void {
    this.data = this.data.length === 0 ? chunk : Buffer.concat([this.data, chunk]);
    let parsed: Parsed | null;
    try {
      parsed = parseResponse(this.data);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (!parsed) return;
    this.data = parsed.rest;
    if (parsed.close) this.destroy();
    this.finish(null, parsed.response);
  }

  private fail(error: Error): void {
    this.destroy();
    this.finish(error);
  }

  private finish(error: Error | null, response?: RawResponse): void {
    const job = this.job;
    if (!job) return;
    clearTimeout(this.timer);
    this.job = undefined;
    job.callback(error, response);
    this.idle(this);
  }
}

/** At most `connections` requests in flight; the rest wait in order for a free socket. */
export class RawHttpPool {
  private readonly free: Connection[] = [];
  private readonly waiting: Job[] = [];
  private head = 0;
  private readonly all: Connection[] = [];

  constructor(url: URL, connections: number, timeoutMs: number) {
    for (let i = 0; i < connections; i += 1) {
      const connection = new Connection(url, timeoutMs, (c) => this.release(c));
      this.all.push(connection);
      this.free.push(connection);
    }
  }

  request(request: Buffer, callback: RawCallback): void {
    const connection = this.free.pop();
    if (connection) connection.send({ request, callback });
    else this.waiting.push({ request, callback });
  }

  destroy(): void {
    for (const connection of this.all) connection.destroy();
  }

  private release(connection: Connection): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head];
      this.head += 1;
      if (this.head === this.waiting.length) {
        this.waiting.length = 0;
        this.head = 0;
      }
      connection.send(next);
    } else this.free.push(connection);
  }
}

/**
 * Calls `fire(dueAt)` for `rate × seconds` requests at evenly spaced instants (performance.now()
 * time); a request's latency should count from its `dueAt`, so a late timer tick is not hidden.
 */
export async function fireAtRate(
  rate: number,
  seconds: number,
  fire: (dueAt: number) => void,
): Promise<void> {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now();
  let scheduled = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      for (; scheduled < due; scheduled += 1) fire(start + scheduled * interval);
      if (scheduled >= total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
}

/** Waits until `outstanding()` is 0 or `graceMs` passed; answers how many are still out. */
export async function settle(outstanding: () => number, graceMs: number): Promise<number> {
  const deadline = performance.now() + graceMs;
  while (outstanding() > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return outstanding();
}
