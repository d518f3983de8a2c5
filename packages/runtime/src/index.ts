export { type BuildInfo, readBuildInfo } from "./build-info";
export { ConfigError, describeConfig, loadConfig, type SettingDoc, setting } from "./config";
export { type ErrorBody, errorBody, HttpError } from "./errors";
export { createServiceApp, ErrorSchema, type Lifecycle, type ServiceAppOptions } from "./http";
export { createLogger, type Logger } from "./logger";
export { createHttpMetrics, type HttpMetrics } from "./metrics";
export { type ErrorStatus, OPENAPI_PATH, type OperationDoc, operation, type TextAnswer } from "./openapi";
export { runService, type ServiceContext, type ServiceDefinition } from "./serve";
export { baseSettings } from "./settings";
