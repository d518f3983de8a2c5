/**
 * A render that may be applied: rendered once, then every object validated against the API
 * schemas and the policy. Any finding is exit 1 with the list; nothing has been applied then.
 */
import { DeployError, ExitCode } from "../errors";
import { checkPolicy, formatViolations } from "./policy";
import { type Rendered, type RenderHow, type RenderInput, render } from "./render";
import { formatProblems, validateObjects } from "./validate";

export async function renderChecked(how: RenderHow, input: RenderInput): Promise<Rendered> {
  const rendered = await render(how, input);
  const what = how === "raw" ? "k8s" : "helm";
  const schema = await validateObjects(rendered.objects);
  if (schema.length > 0) {
    throw new DeployError(
      `the rendered ${what} manifests fail schema validation; nothing was applied:\n${formatProblems(schema)}`,
    );
  }
  const violations = checkPolicy(rendered.objects);
  if (violations.length > 0) {
    throw new DeployError(
      `the rendered ${what} manifests break the policy; nothing was applied:\n${formatViolations(violations)}`,
      ExitCode.failed,
      "see lib/k8s/policy.ts for the rules; change the settings or the manifests, not the check",
    );
  }
  return rendered;
}
