import { DefaultAzureCredential } from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';

/** Service Bus by connection string (Azure, the emulator, the local broker) or by namespace with Entra auth. */
export type ServiceBusConnection = { readonly connectionString: string } | { readonly fullyQualifiedNamespace: string };

export function createServiceBusClient(connection: ServiceBusConnection): ServiceBusClient {
  if ('connectionString' in connection) return new ServiceBusClient(connection.connectionString);
  return new ServiceBusClient(connection.fullyQualifiedNamespace, new DefaultAzureCredential());
}
