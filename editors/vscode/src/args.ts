/**
 * Builds the single object argument of each `agent.*` command from what the
 * user picked: workflow, document, selection, run, step.
 *
 * Pure: never imports `vscode`. Callers convert VS Code's `Uri` and
 * `Selection` to strings and wire ranges first (client.code2ProtocolConverter),
 * so the same functions serve the extension, its unit tests and the protocol test.
 */

import { Command, CommandName, Range } from './protocol';

/** A command and its argument, ready for `workspace/executeCommand`. */
export interface CommandCall {
  command: CommandName;
  arguments: [Record<string, unknown>];
}

function call(command: CommandName, argument: Record<string, unknown>): CommandCall {
  // Drop undefined fields: the server treats an absent field as "use the default",
  // and JSON has no undefined anyway.
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(argument)) {
    if (value !== undefined) {
      clean[key] = value;
    }
  }
  return { command, arguments: [clean] };
}

function isEmpty(range: Range): boolean {
  return range.start.line === range.end.line && range.start.character === range.end.character;
}

/** Where a run starts from: the active editor's document and selection, if any. */
export interface RunTarget {
  /** The document's URI as the server knows it (`file:///...`). */
  uri?: string;
  /** The selection; an empty one (a bare cursor) is not sent. */
  range?: Range;
  /** The editor's diagnostics that touch the selection (templates see them as `diagnostics`). */
  diagnostics?: unknown[];
}

/** `agent.run {workflow, uri?, range?, params?}`. */
export function runCall(
  workflow: string,
  target: RunTarget = {},
  params?: Record<string, string>,
): CommandCall {
  const range = target.range && !isEmpty(target.range) ? target.range : undefined;
  const hasParams = params !== undefined && Object.keys(params).length > 0;
  const diagnostics =
    range && target.diagnostics && target.diagnostics.length > 0 ? target.diagnostics : undefined;
  return call(Command.run, {
    workflow,
    uri: target.uri,
    range,
    params: hasParams ? params : undefined,
    diagnostics,
  });
}

/** `agent.workflows {uri?}`: the workflows offered for a document. */
export function workflowsCall(uri?: string): CommandCall {
  return call(Command.workflows, { uri });
}

/** `agent.runs {uri?, limit?}`. */
export function runsCall(uri?: string, limit?: number): CommandCall {
  return call(Command.runs, { uri, limit });
}

/** `agent.status {runId?}`. */
export function statusCall(runId?: string): CommandCall {
  return call(Command.status, { runId });
}

/** `agent.output {runId, step?}`. */
export function outputCall(runId: string, step?: string): CommandCall {
  return call(Command.output, { runId, step });
}

/** `agent.cancel {runId}`. */
export function cancelCall(runId: string): CommandCall {
  return call(Command.cancel, { runId });
}

/** `agent.retry {runId, step?}`: runs the failed step again. */
export function retryCall(runId: string, step?: string): CommandCall {
  return call(Command.retry, { runId, step });
}

/** `agent.resume {runId}`: continues a run interrupted by a crash or restart. */
export function resumeCall(runId: string): CommandCall {
  return call(Command.resume, { runId });
}

/** `agent.skip {runId, step?}`. */
export function skipCall(runId: string, step?: string): CommandCall {
  return call(Command.skip, { runId, step });
}

/** `agent.override {runId, step, output}`: use `output` as if the step had produced it. */
export function overrideCall(runId: string, step: string, output: string): CommandCall {
  return call(Command.override, { runId, step, output });
}

/** `agent.approve {runId, step?}`. */
export function approveCall(runId: string, step?: string): CommandCall {
  return call(Command.approve, { runId, step });
}

/** `agent.reject {runId, step?, reason?}`; a blank reason is not sent. */
export function rejectCall(runId: string, step?: string, reason?: string): CommandCall {
  const trimmed = reason?.trim();
  return call(Command.reject, { runId, step, reason: trimmed ? trimmed : undefined });
}

/** `agent.diff {runId?}`: a worktree run's patch (without runId: the newest run). */
export function diffCall(runId?: string): CommandCall {
  return call(Command.diff, { runId });
}

/** `agent.apply {runId?}`: applies a completed worktree run's patch to the workspace. */
export function applyCall(runId?: string): CommandCall {
  return call(Command.apply, { runId });
}

/** `agent.discard {runId?}`: drops a worktree run's changes and its worktree. */
export function discardCall(runId?: string): CommandCall {
  return call(Command.discard, { runId });
}

/** The `{runId}` of an `agent.run` result, or undefined when the answer has none. */
export function runIdOf(result: unknown): string | undefined {
  if (typeof result === 'object' && result !== null && 'runId' in result) {
    const runId = result.runId;
    return typeof runId === 'string' ? runId : undefined;
  }
  return undefined;
}
