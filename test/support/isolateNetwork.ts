import nock from 'nock';
import { afterAll, afterEach, beforeAll } from 'vitest';

/**
 * For test files that fake HTTP services with nock: no real network for the file, and no interceptor
 * left over from one test to the next.
 */
export function isolateNetwork(): void {
  beforeAll(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    nock.cleanAll();
  });
  afterAll(() => {
    nock.enableNetConnect();
  });
}
