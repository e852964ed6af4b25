import { DefaultAzureCredential } from '@azure/identity';
import { RetryMode, ServiceBusClient, type ServiceBusClientOptions } from '@azure/service-bus';

/** Service Bus by connection string (Azure, the emulator, the local broker) or by namespace with Entra auth. */
export type ServiceBusConnection = { readonly connectionString: string } | { readonly fullyQualifiedNamespace: string };

/**
 * A few quick retries, each try bounded: the SDK's defaults (3 retries 30 s apart, 60 s a try) keep
 * a publish against a stopped namespace going for minutes, past the HTTP front end's 230 s. Inside a
 * request the request's budget (requestBudget.ts) also ends them.
 */
export const SERVICE_BUS_CLIENT_OPTIONS: ServiceBusClientOptions = {
  retryOptions: { maxRetries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 4_000, mode: RetryMode.Exponential, timeoutInMs: 20_000 },
};

export function createServiceBusClient(connection: ServiceBusConnection): ServiceBusClient {
  if ('connectionString' in connection) return new ServiceBusClient(connection.connectionString, SERVICE_BUS_CLIENT_OPTIONS);
  return new ServiceBusClient(connection.fullyQualifiedNamespace, new DefaultAzureCredential(), SERVICE_BUS_CLIENT_OPTIONS);
}
