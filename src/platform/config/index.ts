export {
  SERVICE_NAMES,
  type ServiceName,
  type ListenConfig,
  type DatabaseSettings,
  type PlatformConfig,
  DEFAULT_PORT_BASE,
  defaultConfig,
  databaseConfig,
  loadConfig,
} from './config.ts';
