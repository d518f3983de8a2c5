import { expect, test } from "bun:test";
import { join } from "node:path";
import { parse } from "yaml";
import { CHARTS_DIR, K8S_DIR } from "../../lib/paths";
import { SERVICES } from "../../lib/services";
import { defaultEnv, settingsOf, valueKey } from "../../lib/settings";

// The manifests and charts restate each service's settings; these tests keep them equal to the
// schemas the binaries check at start, so a new or changed setting cannot be forgotten here.

const baseKustomization = parse(await Bun.file(join(K8S_DIR, "base", "kustomization.yaml")).text());

function literals(service: string): Record<string, string> {
  const generator = baseKustomization.configMapGenerator.find((g: { name: string }) => g.name === `${service}-config`);
  return Object.fromEntries(generator.literals.map((line: string) => line.split(/=(.*)/s).slice(0, 2)));
}

test("valueKey turns variable names into chart value names", () => {
  expect(valueKey("SERVICE1_RETRY_BACKOFF_MS")).toBe("service1RetryBackoffMs");
  expect(valueKey("PORT")).toBe("port");
});

for (const service of SERVICES) {
  const chart = join(CHARTS_DIR, service);
  const values = parse(await Bun.file(join(chart, "values.yaml")).text());
  const schema = await Bun.file(join(chart, "values.schema.json")).json();
  const configTemplate = await Bun.file(join(chart, "templates", "configmap.yaml")).text();

  test(`${service}: the base ConfigMap holds every setting at its default`, () => {
    expect(literals(service)).toEqual(defaultEnv(service));
  });

  test(`${service}: chart values hold every setting at its default, and the ConfigMap template passes each on`, () => {
    const expected = Object.fromEntries(
      settingsOf(service).map((s) => [s.valueKey, s.type === "integer" ? Number(s.default) : s.default]),
    );
    expect(values.config).toEqual(expected);
    for (const setting of settingsOf(service)) {
      expect(configTemplate).toContain(`${setting.variable}: {{ .Values.config.${setting.valueKey} | quote }}`);
    }
  });

  test(`${service}: the values schema allows exactly what the service accepts`, () => {
    const properties = schema.properties.config.properties;
    expect(Object.keys(properties).sort()).toEqual(
      settingsOf(service)
        .map((s) => s.valueKey)
        .sort(),
    );
    expect(schema.properties.config.required.sort()).toEqual(
      settingsOf(service)
        .map((s) => s.valueKey)
        .sort(),
    );
    for (const setting of settingsOf(service)) {
      const property = properties[setting.valueKey];
      expect(property.description).toBe(setting.variable);
      if (setting.type === "integer") {
        expect([property.type, property.minimum, property.maximum]).toEqual([
          "integer",
          setting.minimum,
          setting.maximum,
        ]);
      } else if (setting.type === "enum") {
        expect(property.enum).toEqual(setting.choices);
      } else if (setting.pattern) {
        expect(property.pattern).toBe(setting.pattern);
      }
    }
  });

  test(`${service}: the chart's appVersion is the version the base manifests deploy`, async () => {
    const { appVersion } = parse(await Bun.file(join(chart, "Chart.yaml")).text());
    const image = baseKustomization.images.find((i: { name: string }) => i.name === `timekit/${service}`);
    expect(image.newTag).toBe(appVersion);
  });
}
