// The whole stack of the proactive engagement connector in one resource group:
// Function App (Flex Consumption, or Elastic Premium) on Node.js 22 with a system-assigned identity,
// Storage (the app's tables, the host's blobs, Flex's deployment container, the container Customer
// Insights exports segments to, and its Event Grid system topic), Service Bus with the queues
// of config/servicebus.json, Application Insights on a Log Analytics workspace, and the role assignments
// that let the identity use them without keys.
//
//   az deployment group create -g <group> -f infra/main.bicep -p @infra/main.parameters.json
//
// test/deploy/infraTemplate.test.ts keeps this file consistent with the app (settings, queues, bindings).

@description('Base name of every resource (letters and digits, 3-16); resources get a short suffix unique to the group.')
@minLength(3)
@maxLength(16)
param baseName string

@description('Where the resources go.')
param location string = resourceGroup().location

@description('FlexConsumption (FC1, scales to zero, deployment from a blob container) or Premium (Elastic Premium, always warm).')
@allowed(['FlexConsumption', 'Premium'])
param hostingPlan string = 'FlexConsumption'

@description('Elastic Premium size, with hostingPlan Premium.')
@allowed(['EP1', 'EP2', 'EP3'])
param premiumSku string = 'EP1'

@description('Flex Consumption: most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption: memory per instance.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Who places the calls: dynamics365 (Contact Center CCaaS_* actions) or the embedded simulator (a trial without telephony).')
@allowed(['dynamics365', 'simulator'])
param dialerBackend string = 'dynamics365'

@description('Dataverse organisation URL of the Contact Center environment, e.g. https://contoso.crm.dynamics.com (required with dynamics365).')
param dataverseUrl string = ''

@description('Path of the engagement file inside the deployed package.')
param engagementsFile string = 'config/engagements.json'

@description('Shared secret (32+ characters) for X-Call-Events-Signature on POST /api/call-events. Give it from Key Vault in the parameters file.')
@secure()
@minLength(32)
param callEventsSigningSecret string

@description('Key (32+ characters) of the HMAC under which do-not-contact numbers are stored; changing it orphans the stored list. Give it from Key Vault in the parameters file.')
@secure()
@minLength(32)
param dncHashKey string

@description('Container (in the storage account of this template) that Customer Insights exports segments to; the segmentExportBlob trigger watches it.')
@minLength(3)
@maxLength(63)
param segmentExportsContainer string = 'customer-insights'

@description('How the agent leg (the bot) authenticates: client-secret (an Entra app registration: botAppId + botClientSecret) or user-assigned-identity (the template creates the identity; its client id is the bot app id).')
@allowed(['client-secret', 'user-assigned-identity'])
param botCredential string = 'client-secret'

@description('Entra application (client) id of the bot, with botCredential client-secret.')
param botAppId string = ''

@description('Client secret of the bot app registration, with botCredential client-secret. Give it from Key Vault in the parameters file.')
@secure()
param botClientSecret string = ''

@description('Entra tenant of the bot app registration.')
param botTenantId string = tenant().tenantId

@description('App ids of agents allowed to call the bot as a skill (the Copilot Studio agent), comma-separated; empty allows only the Bot Framework channel service.')
param botAllowedCallers string = ''

@description('Prefix of every table the app creates, to share the storage account between deployments.')
param tablePrefix string = ''

@description('Node.js arguments of the worker process. --optimize-for-size keeps a million-contact segment under 256 MiB of RSS (V8 sizes its heap for memory; no cap, so no out-of-memory from a limit) at some planning speed: see docs/scale.md. Empty gives V8 its defaults.')
param nodeWorkerArguments string = '--optimize-for-size'

var suffix = take(uniqueString(resourceGroup().id, baseName), 6)
var name = toLower('${baseName}-${suffix}')
var storageName = take(toLower(replace('${baseName}${suffix}st', '-', '')), 24)
var isFlex = hostingPlan == 'FlexConsumption'
var deploymentContainer = 'app-package-${take(name, 32)}'
// The queues, exactly as the local broker has them (emulator config format), so Azure and `npm start` agree.
var busConfig = loadJsonContent('../config/servicebus.json')
var busQueues = busConfig.UserConfig.Namespaces[0].Queues

// Built-in role definition ids (the same in every tenant).
var roles = {
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${name}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${name}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry only with the app's Entra identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING below).
    DisableLocalAuth: true
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    // Elastic Premium keeps its content share on Azure Files, which takes only a key; Flex needs no key at all.
    allowSharedKeyAccess: !isFlex
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = if (isFlex) {
  parent: blobService
  name: deploymentContainer
  properties: { publicAccess: 'None' }
}

resource exportsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: segmentExportsContainer
  properties: { publicAccess: 'None' }
}

// Blob Created events of the account: the segmentExportBlob trigger (source EventGrid) is fed by a
// subscription on this topic, created after the code is published (README, Deploying to Azure): its
// webhook needs the host's blobs_extension key, which exists only once the host has run.
resource storageEvents 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'evgt-${name}'
  location: location
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: 'sb-${name}'
  location: location
  // Standard: duplicate detection and scheduled messages (contact batches wait for their window) need it.
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource queues 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = [
  for queue in busQueues: {
    parent: serviceBus
    name: queue.Name
    properties: {
      requiresDuplicateDetection: queue.Properties.RequiresDuplicateDetection
      duplicateDetectionHistoryTimeWindow: queue.Properties.DuplicateDetectionHistoryTimeWindow
      deadLetteringOnMessageExpiration: queue.Properties.DeadLetteringOnMessageExpiration
      defaultMessageTimeToLive: queue.Properties.DefaultMessageTimeToLive
      lockDuration: queue.Properties.LockDuration
      maxDeliveryCount: queue.Properties.MaxDeliveryCount
      requiresSession: queue.Properties.RequiresSession
    }
  }
]

resource botIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (botCredential == 'user-assigned-identity') {
  name: 'id-${name}-bot'
  location: location
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}'
  location: location
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: premiumSku, tier: 'ElasticPremium' }
  properties: {
    reserved: true
    maximumElasticWorkerCount: isFlex ? null : 20
  }
}

var botAppIdValue = botCredential == 'user-assigned-identity' ? botIdentity!.properties.clientId : botAppId

// Settings the app reads (src/settings/settings.ts, src/agentLeg/agentLegSettings.ts), identity-based
// connections for Service Bus and Storage (SegmentExportsStorage: the blob trigger's, on this account),
// the settings binding expressions name (%...%: the host resolves them from app settings only, so a
// default in the app's settings schema does not reach it), and the host's monitoring. Secrets are
// only the secure parameters.
var appSettings = union(
  {
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
    AzureWebJobsStorage__credential: 'managedidentity'
    ServiceBusConnection__fullyQualifiedNamespace: '${serviceBus.name}.servicebus.windows.net'
    APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
    ENGAGEMENTS_FILE: engagementsFile
    CONTACT_BATCHES_QUEUE: 'contact-batches'
    PACING_SCHEDULE: '*/5 * * * * *'
    JOURNEY_OUTBOX_SCHEDULE: '*/10 * * * * *'
    SegmentExportsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    SegmentExportsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    SEGMENT_EXPORTS_CONTAINER: segmentExportsContainer
    TABLE_PREFIX: tablePrefix
    languageWorkers__node__arguments: nodeWorkerArguments
    DIALER_BACKEND: dialerBackend
    DATAVERSE_URL: dataverseUrl
    PRESENCE_SOURCE: dialerBackend == 'dynamics365' ? 'graph' : 'simulator'
    CALL_EVENTS_SIGNING_SECRET: callEventsSigningSecret
    DNC_HASH_KEY: dncHashKey
    AGENT_LEG_APP_ID: botAppIdValue
    AGENT_LEG_TENANT_ID: botTenantId
    AGENT_LEG_ALLOWED_CALLERS: botAllowedCallers
    AGENT_LEG_PUBLIC_BASE_URL: 'https://${name}.azurewebsites.net'
  },
  botCredential == 'client-secret'
    ? {
        AGENT_LEG_CLIENT_SECRET: botClientSecret
      }
    : {
        AGENT_LEG_USE_MANAGED_IDENTITY: 'true'
      },
  // Flex Consumption takes the runtime from functionAppConfig; Elastic Premium from these settings and its content share.
  isFlex
    ? {}
    : {
        FUNCTIONS_EXTENSION_VERSION: '~4'
        FUNCTIONS_WORKER_RUNTIME: 'node'
        WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};EndpointSuffix=${environment().suffixes.storage};AccountKey=${storage.listKeys().keys[0].value}'
        WEBSITE_CONTENTSHARE: take(name, 63)
      }
)

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  kind: 'functionapp,linux'
  identity: botCredential == 'user-assigned-identity'
    ? { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { '${botIdentity!.id}': {} } }
    : { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: isFlex ? null : 'Node|22'
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
    functionAppConfig: isFlex
      ? {
          deployment: {
            storage: {
              type: 'blobContainer'
              value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
              authentication: { type: 'SystemAssignedIdentity' }
            }
          }
          scaleAndConcurrency: {
            maximumInstanceCount: maximumInstanceCount
            instanceMemoryMB: instanceMemoryMB
          }
          runtime: { name: 'node', version: '22' }
        }
      : null
  }
  dependsOn: [packageContainer, exportsContainer, queues]
}

// The app's identity: send and receive on the namespace; read and write its tables (it creates them);
// the host's blobs (keys, leases, Flex's package) and the segment exports (the blob trigger reads them
// and keeps its receipts as blobs); the blob trigger's poison queue; telemetry with Entra auth.
resource sbSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, functionApp.id, roles.serviceBusDataSender)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource sbReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus.id, functionApp.id, roles.serviceBusDataReceiver)
  scope: serviceBus
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionApp.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, functionApp.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

@description('Give this to `func azure functionapp publish`.')
output functionAppName string = functionApp.name
output baseUrl string = 'https://${functionApp.properties.defaultHostName}'
@description('The Azure Bot messaging endpoint (Contact Center / Copilot Studio side).')
output botMessagingEndpoint string = 'https://${functionApp.properties.defaultHostName}/api/messages'
output botAppId string = botAppIdValue
output principalId string = functionApp.identity.principalId
output serviceBusNamespace string = serviceBus.name
output storageAccountName string = storage.name
@description('The Event Grid system topic of the storage account: subscribe segmentExportBlob to it after publishing.')
output storageEventsTopic string = storageEvents.name
output segmentExportsContainer string = exportsContainer.name
