import { inject } from 'vitest';
import { Tables } from '../../../src/store/tables.js';

/**
 * Tables of one app as its scaled-out workers see them: every call gives a new `Tables` (its own
 * clients, nothing cached) on the same storage account and table prefix, so what one worker stored
 * another reads only through Azurite.
 */
export function workerTables(): () => Tables {
  const prefix = `w${Math.random().toString(36).slice(2, 10)}`;
  return () => new Tables({ connectionString: inject('azuriteTablesConnection') }, prefix);
}
