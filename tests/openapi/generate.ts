/**
 * Regenerates the typed clients in tests/openapi/generated/ from the services' live documents:
 *
 *   bun tests/openapi/generate.ts
 *
 * tests/openapi/documents.test.ts fails while the committed files differ from what this writes.
 */
import type { OpenAPIV3_1 } from "openapi-types";
import { type ServiceProcess, startService, stopAll } from "../integration/processes";
import { GENERATED, generateTypes } from "./documents";

const started: ServiceProcess[] = [];
try {
  for (const service of ["service1", "service2"] as const) {
    const process = await startService(service, { LOG_LEVEL: "warn", SERVICE1_URL: "http://127.0.0.1:9" });
    started.push(process);
    const document = (await (await fetch(`${process.url}/openapi/json`)).json()) as OpenAPIV3_1.Document;
    await Bun.write(GENERATED[service], await generateTypes(document, service));
    console.log(`wrote ${GENERATED[service]}`);
  }
} finally {
  await stopAll(started);
}
