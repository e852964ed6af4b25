import { inject } from 'vitest';
import { Tables, type TableCall } from '../../src/store/tables.js';

/** Tables in the run's shared Azurite under a prefix of their own, so test files never see each other's rows. */
export function testTables(observe?: (call: TableCall) => void): Tables {
  return new Tables({ connectionString: inject('azuriteTablesConnection') }, `t${Math.random().toString(36).slice(2, 10)}`, observe);
}
