/** A port free on 127.0.0.1 right now: for tests that start `main.js` on ports of their own. */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}
