import { expect, test } from "bun:test";
import { describeConfig } from "@timekit/runtime";
import { settings as service1Settings } from "@timekit/service1/settings";
import { settings as service2Settings } from "@timekit/service2/settings";

const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();

/** Table rows as trimmed cells, so column alignment does not matter. */
const tableRows = readme
  .split("\n")
  .filter((line) => line.startsWith("|"))
  .map((line) =>
    line
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );

test("the README's configuration table lists every variable with its real default and allowed values", () => {
  const service1Variables = new Set(describeConfig(service1Settings).map((row) => row.variable));
  for (const row of describeConfig(service2Settings)) {
    const scope = service1Variables.has(row.variable) ? "both" : "service2";
    expect(tableRows).toContainEqual([
      `\`${row.variable}\``,
      scope,
      `\`${row.default}\``,
      row.allowed,
      row.description,
    ]);
  }
});

test("every guide the README links to exists", async () => {
  const links = [...readme.matchAll(/\]\(((?:docs|bench)\/[^)#]+)\)/g)].map((match) => match[1] as string);
  expect(links.length).toBeGreaterThan(0);
  for (const link of links) expect(await Bun.file(new URL(`../../${link}`, import.meta.url)).exists()).toBe(true);
});
