import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';

describe('Azurite started by the test setup', () => {
  it('serves the real @azure/data-tables client: create, read back, 409 on duplicate create', async () => {
    const table = TableClient.fromConnectionString(inject('azuriteTablesConnection'), `smoke${Date.now()}`, {
      allowInsecureConnection: true,
    });
    await table.createTable();
    await table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 42 });
    const entity = await table.getEntity<{ value: number }>('p', 'r');
    expect(entity.value).toBe(42);
    await expect(table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 1 })).rejects.toMatchObject({ statusCode: 409 });
    await table.deleteTable();
  });
});
