/**
 * The services this repository ships, named once. Imports nothing: the image builder stage
 * (lib/images/builder-stage.ts) and scripts/build.ts read it inside the Docker build.
 */
export const SERVICES = ["service1", "service2"] as const;
export type ServiceName = (typeof SERVICES)[number];

export function isServiceName(value: string): value is ServiceName {
  return (SERVICES as readonly string[]).includes(value);
}

/** The service that is not `service`. */
export function otherService(service: ServiceName): ServiceName {
  return service === "service1" ? "service2" : "service1";
}

/** One value per service, built by `f`. */
export function perService<T>(f: (service: ServiceName) => T): Record<ServiceName, T> {
  return { service1: f("service1"), service2: f("service2") };
}
