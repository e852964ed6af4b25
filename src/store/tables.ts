import { DefaultAzureCredential } from '@azure/identity';
import { TableClient, type TableEntity, type TableServiceClientOptions, type TransactionAction } from '@azure/data-tables';
import pMap from 'p-map';
import { SystemError } from '../errors.js';
import { budgetSignal } from '../httpApi/requestBudget.js';

/** Where tables live: a connection string (Azurite: UseDevelopmentStorage=true) or an account URI with Entra auth. */
export type TableConnection = { readonly connectionString: string } | { readonly tableServiceUri: string };

/** Most entities a Table Storage transaction may hold (all in one partition). */
export const MAX_TRANSACTION_ACTIONS = 100;

/** One storage call as a caller counting them sees it (the soak prints calls per tick): no keys, no values. */
export interface TableCall {
  readonly method: string;
  /** The table's name without the app's prefix. */
  readonly table: string;
  /** A query (`$filter`) rather than a point read or a write. */
  readonly query: boolean;
}

/**
 * Creates table clients with the app's table prefix and makes sure each table exists once per process.
 */
export class Tables {
  private readonly ready = new Map<string, Promise<TableClient>>();
  constructor(
    private readonly connection: TableConnection,
    private readonly prefix: string,
    /** Told of every call (each try) the clients make. */
    private readonly observe?: (call: TableCall) => void,
  ) {}

  /** A client for `<prefix><name>`, creating the table on first use. */
  async table(name: string): Promise<TableClient> {
    const fullName = `${this.prefix}${name}`;
    let client = this.ready.get(fullName);
    if (client === undefined) {
      client = this.create(fullName);
      this.ready.set(fullName, client);
      client.catch(() => this.ready.delete(fullName));
    }
    return client;
  }

  private async create(fullName: string): Promise<TableClient> {
    const observe = this.observe;
    const observed = (request: { method: string; url: string }) =>
      observe?.({
        method: request.method,
        table: fullName.slice(this.prefix.length),
        query: request.url.includes('%24filter=') || request.url.includes('$filter='),
      });
    const client = tableClient(this.connection, fullName, observe === undefined ? undefined : observed);
    try {
      await client.createTable();
    } catch (error) {
      // The SDK's message can name the account and endpoint: it stays in `cause`, out of responses.
      throw new SystemError('DependencyFailed', `cannot create or open table ${fullName}`, true, { cause: error });
    }
    return client;
  }
}

/**
 * Retries of one Table Storage call: a few quick ones (the SDK's default waits grow to tens of
 * seconds), and each try bounded, so an account that does not answer costs seconds, not minutes.
 */
const TABLE_CLIENT_OPTIONS: TableServiceClientOptions = {
  retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
  additionalPolicies: [{ policy: requestBudgetPolicy(), position: 'perCall' }],
};
type PipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

/** Longest single try of a Table Storage call (a server that accepts and never answers). */
const TABLE_TRY_TIMEOUT_MS = 20_000;

/**
 * Gives each Table Storage call the abort signal of the HTTP request it serves (see requestBudget.ts),
 * so every try and every wait between tries ends when the request's budget is spent.
 */
function requestBudgetPolicy(): PipelinePolicy {
  return {
    name: 'requestBudget',
    sendRequest(request, next) {
      const signal = budgetSignal();
      // No store passes a signal of its own; one that did would keep it.
      if (signal !== undefined) request.abortSignal ??= signal;
      if (request.timeout === 0) request.timeout = TABLE_TRY_TIMEOUT_MS;
      return next(request);
    },
  };
}

function tableClient(connection: TableConnection, name: string, observe?: (request: { method: string; url: string }) => void): TableClient {
  const options: TableServiceClientOptions =
    observe === undefined
      ? TABLE_CLIENT_OPTIONS
      : {
          ...TABLE_CLIENT_OPTIONS,
          additionalPolicies: [
            ...(TABLE_CLIENT_OPTIONS.additionalPolicies ?? []),
            {
              policy: {
                name: 'observeCalls',
                sendRequest(request, next) {
                  observe(request);
                  return next(request);
                },
              },
              position: 'perRetry',
            },
          ],
        };
  if ('connectionString' in connection) {
    const local = /UseDevelopmentStorage=true|127\.0\.0\.1|localhost/i.test(connection.connectionString);
    return TableClient.fromConnectionString(connection.connectionString, name, local ? { ...options, allowInsecureConnection: true } : options);
  }
  return new TableClient(connection.tableServiceUri, name, new DefaultAzureCredential(), options);
}

/** Upserts entities in per-partition transactions of at most 100, with bounded parallelism. */
export async function upsertAll<T extends TableEntity>(client: TableClient, entities: readonly T[], concurrency = 16): Promise<void> {
  const byPartition = new Map<string, T[]>();
  for (const entity of entities) {
    const list = byPartition.get(entity.partitionKey);
    if (list === undefined) byPartition.set(entity.partitionKey, [entity]);
    else list.push(entity);
  }
  const chunks: TransactionAction[][] = [];
  for (const list of byPartition.values()) {
    for (let i = 0; i < list.length; i += MAX_TRANSACTION_ACTIONS) {
      chunks.push(list.slice(i, i + MAX_TRANSACTION_ACTIONS).map((e) => ['upsert', e, 'Replace'] as TransactionAction));
    }
  }
  await pMap(chunks, (actions) => client.submitTransaction(actions), { concurrency });
}

/** The HTTP status of a Table Storage error (the SDK leaves `code` undefined on Azurite; see notes). */
export function tableErrorStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
