export { type BuildInfo, readBuildInfo } from "./build-info";
export { ConfigError, describeConfig, loadConfig, type SettingDoc, setting } from "./config";
export { type ErrorBody, errorBody, HttpError } from "./errors";
export { createServiceApp, ErrorSchema, type Lifecycle, prepareNativeRoutes, type ServiceAppOptions } from "./http";
export { createLogger, type LineSink, Logger, type LogLevel } from "./logger";
export {
  type CounterFamily,
  type CounterSeries,
  DURATION_BUCKETS,
  type GaugeFamily,
  type HistogramFamily,
  type HistogramSeries,
  HttpMetrics,
  Metrics,
} from "./metrics";
export type { NativeContext } from "./native";
export { type ErrorStatus, OPENAPI_PATH, type OperationDoc, operation, type TextAnswer } from "./openapi";
export { type ListenOptions, listen, runService, type ServiceContext, type ServiceDefinition } from "./serve";
export { baseSettings } from "./settings";
