import { runService } from "@timekit/runtime";
import packageJson from "../package.json" with { type: "json" };
import { createApp } from "./app";
import { settings } from "./settings";

await runService({ name: "service2", packageVersion: packageJson.version, settings, createApp });
