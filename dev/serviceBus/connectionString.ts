/** The emulator's well-known credentials: fixed and public, never a secret. */
export const EMULATOR_KEY_NAME = 'RootManageSharedAccessKey';
export const EMULATOR_KEY = 'SAS_KEY_VALUE';
/** The port the emulator (and AMQP) uses; the SDK assumes it when the endpoint names none. */
export const EMULATOR_PORT = 5672;

/**
 * A connection string in the emulator's format. `UseDevelopmentEmulator=true` makes the SDK use plain
 * TCP (no TLS) and the emulator's port; a port in the endpoint overrides the latter.
 */
export function emulatorConnectionString(host: string, port: number): string {
  // A wildcard listen address is not something to connect to.
  const target = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const endpoint = port === EMULATOR_PORT ? `sb://${target}` : `sb://${target}:${port}`;
  return `Endpoint=${endpoint};SharedAccessKeyName=${EMULATOR_KEY_NAME};SharedAccessKey=${EMULATOR_KEY};UseDevelopmentEmulator=true;`;
}
