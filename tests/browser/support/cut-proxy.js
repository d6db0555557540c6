// A TCP relay on 127.0.0.1 between the browser and the sample server that can drop the
// WebSocket connections through it the way a phone losing its network does (a reset, no close
// frame), and refuse new connections for a while, without any hook in the page.
import net from 'node:net';

/**
 * @param {string} targetUrl `http://127.0.0.1:PORT` of the server
 * @returns {Promise<{ url: string, cutWebSockets: () => number, refuse: (on: boolean) => void, close: () => Promise<void> }>}
 */
export async function startCutProxy(targetUrl) {
  const target = new URL(targetUrl);
  /** @type {Set<{ client: net.Socket, upstream: net.Socket, webSocket: boolean }>} */
  const pairs = new Set();
  let refusing = false;

  const server = net.createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair = { client, upstream, webSocket: false };
    pairs.add(pair);
    client.on('data', (chunk) => {
      if (!pair.webSocket && /\r\nupgrade:\s*websocket\r\n/i.test(chunk.toString('latin1'))) pair.webSocket = true;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {net.AddressInfo} */ (server.address());

  return {
    url: `http://127.0.0.1:${port}`,
    /** Resets every WebSocket connection through the relay; returns how many. */
    cutWebSockets() {
      let cut = 0;
      for (const pair of [...pairs]) {
        if (!pair.webSocket) continue;
        pairs.delete(pair);
        pair.client.resetAndDestroy();
        pair.upstream.resetAndDestroy();
        cut++;
      }
      return cut;
    },
    /** While on, new connections are reset at once (the network is still down). */
    refuse(on) {
      refusing = on;
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
