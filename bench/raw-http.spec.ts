import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { RawHttpPool, RawResponse, parseResponse, rawPost } from './raw-http';

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('parseResponse', () => {
  it('cuts one response by its content-length and keeps what follows', () => {
    const parsed = parseResponse(Buffer.from(ok('{"a":"é"}') + ok('{}')));
    expect(parsed?.response).toEqual({ status: 200, body: '{"a":"é"}' });
    expect(parseResponse(parsed!.rest)?.response.body).toBe('{}');
  });

  it('waits for the whole body and for the whole head', () => {
    const whole = Buffer.from(ok('{"id":"pay_1"}'));
    expect(parseResponse(whole.subarray(0, whole.length - 1))).toBeNull();
    expect(parseResponse(whole.subarray(0, 20))).toBeNull();
  });

  it('reads a chunked body and the connection: close header', () => {
    const text =
      'HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    const parsed = parseResponse(Buffer.from(text));
    expect(parsed?.response).toEqual({ status: 400, body: 'abcde' });
    expect(parsed?.close).toBe(true);
    expect(parseResponse(Buffer.from(text.slice(0, -3)))).toBeNull();
  });

  it('refuses what is not HTTP', () => {
    expect(() => parseResponse(Buffer.from('SSH-2.0-x\r\n\r\n'))).toThrow('not an HTTP response');
  });
});

describe('RawHttpPool', () => {
  let server: Server;
  let url: URL;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push(`${req.headers['x-n']} ${body}`);
        // Every third answer closes its connection: the pool must open a new one.
        if (Number(req.headers['x-n']) % 3 === 0) res.setHeader('connection', 'close');
        res.end(JSON.stringify({ echo: body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`);
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('answers every request with its own response over fewer sockets than requests', async () => {
    const pool = new RawHttpPool(url, 2, 5_000);
    const answers = await Promise.all(
      Array.from(
        { length: 10 },
        (_, n) =>
          new Promise<RawResponse>((resolve, reject) =>
            pool.request(rawPost(url, { 'x-n': String(n) }, `body-${n}`), (error, response) =>
              error ? reject(error) : resolve(response!),
            ),
          ),
      ),
    );
    pool.destroy();
    expect(answers.map((a) => JSON.parse(a.body).echo)).toEqual(
      Array.from({ length: 10 }, (_, n) => `body-${n}`),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(seen).toHaveLength(10);
  });

  it('reports a refused connection as an error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const target = new URL(`http://127.0.0.1:${port}/`);
    const pool = new RawHttpPool(target, 1, 5_000);
    const error = await new Promise<Error | null>((resolve) =>
      pool.request(rawPost(target, {}, ''), (e) => resolve(e)),
    );
    pool.destroy();
    expect(error?.message).toMatch(/ECONNREFUSED/);
  });
});
