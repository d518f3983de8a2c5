/** What every subcommand resolves first from the common flags. */
import { UsageError } from "./errors";
import { checkProject, projectFrom, type RawArgs } from "./plan";
import { Progress } from "./progress";
import { History, stateDirFor } from "./state";

export interface Context {
  project: string;
  stateDir: string;
  history: History;
  progress: Progress;
  json: boolean;
}

export function contextFrom(args: RawArgs): Context {
  const project = projectFrom(args);
  const problem = checkProject(project);
  if (problem) throw new UsageError(problem);
  const stateDir = stateDirFor(args.state_dir ? String(args.state_dir) : undefined, project);
  return {
    project,
    stateDir,
    history: new History(stateDir),
    progress: new Progress(args.quiet === true),
    json: args.json === true,
  };
}
