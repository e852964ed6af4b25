import { createServer } from 'node:net';

/**
 * Asks the OS for a free loopback port. The port is released before it is returned, so a caller
 * that hands it to a child process must be ready to retry on EADDRINUSE (another process may win it).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a loopback listener'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
