/**
 * The agentls editor surface as seen from the extension: command names,
 * notification names and the shapes of their payloads (docs/protocol.md).
 *
 * Pure data: this module must never import `vscode`, so unit tests and the
 * protocol test (tests/vscode-protocol) load it under plain Node.
 */

/** Commands the server executes (`workspace/executeCommand`, one object argument). */
export const Command = {
  workflows: 'agent.workflows',
  run: 'agent.run',
  status: 'agent.status',
  runs: 'agent.runs',
  output: 'agent.output',
  cancel: 'agent.cancel',
  retry: 'agent.retry',
  skip: 'agent.skip',
  override: 'agent.override',
  resume: 'agent.resume',
  approve: 'agent.approve',
  reject: 'agent.reject',
  diff: 'agent.diff',
  apply: 'agent.apply',
  discard: 'agent.discard',
} as const;

export type CommandName = (typeof Command)[keyof typeof Command];

/** Server-to-client notifications a client receives once it opts in to run events. */
export const Notification = {
  output: 'agent/output',
  state: 'agent/state',
} as const;

export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting'
  | 'failed'
  | 'interrupted'
  | 'cancelled'
  | 'completed';

export type StepStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'completed'
  | 'failed'
  | 'skipped'
  | 'cancelled';

/**
 * What a person can do to a run or a step, each the `agent.*` command of that
 * name. The server says which ones a run and a step accept now (`actions` in
 * the run state, docs/protocol.md "Run state"); the extension keeps no rule
 * of its own. Listed in the order the Runs view shows them.
 */
export const ACTIONS = ['approve', 'reject', 'retry', 'skip', 'override', 'resume', 'cancel'] as const;

export type Action = (typeof ACTIONS)[number];

/**
 * What a person can do with the worktree of a run isolated in one
 * (docs/workflows.md "Isolation"): see its patch, apply it, drop it. The
 * server lists no `actions` for these; they follow from the run's
 * `isolation.state` and status as docs/protocol.md "Run state" describes
 * (worktreeActions). Listed in the order the Runs view shows them.
 */
export const WORKTREE_ACTIONS = ['diff', 'apply', 'discard'] as const;

export type WorktreeAction = (typeof WORKTREE_ACTIONS)[number];

/** `isolation` of a run state: the worktree a run works in. */
export interface Isolation {
  /** `pending` (not made yet), `active`, `applied` or `discarded` (gone). */
  state: string;
  worktree?: string;
  branch?: string;
  base?: string | null;
}

/** `agent/output`: a slice of a step's live output. `seq` grows per run. */
export interface OutputParams {
  runId: string;
  step: string;
  text: string;
  seq: number;
}

/** One step as `agent/state` and `agent.status` describe it. */
export interface StepState {
  id: string;
  title?: string | null;
  status: StepStatus;
  attempt?: number | null;
  exitCode?: number | null;
  error?: string | null;
  /** What may name this step now, as the server computed it. */
  actions: Action[];
}

/** `agent/state`: the whole state of one run, sent on every change. */
export interface RunState {
  runId: string;
  status: RunStatus;
  steps: StepState[];
  workflow?: string;
  /** The workflow's title, when it has one. */
  title?: string | null;
  error?: string | null;
  /** What the run accepts now, as the server computed it. */
  actions: Action[];
  /**
   * The run's worktree. Only command results (`agent.status`, `agent.discard`)
   * carry it: `null` when such a result said the run has none, absent when
   * no such result was read (`agent/state` and `agent.runs` entries).
   */
  isolation?: Isolation | null;
}

/** One entry of `agent.workflows`. */
export interface WorkflowInfo {
  name: string;
  title?: string | null;
  description?: string | null;
  source?: string | null;
  params?: unknown;
}

/** A declared workflow parameter, normalised from whatever shape the server sent. */
export interface WorkflowParam {
  name: string;
  description?: string;
  default?: string;
  required: boolean;
}

/** An LSP position/range as sent on the wire (0-based; the negotiated encoding). */
export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

const RUN_STATUSES: readonly string[] = [
  'queued',
  'running',
  'waiting',
  'failed',
  'interrupted',
  'cancelled',
  'completed',
];
const STEP_STATUSES: readonly string[] = [
  'pending',
  'running',
  'waiting',
  'completed',
  'failed',
  'skipped',
  'cancelled',
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The `actions` of a run or step, in the order of ACTIONS. Absent means none;
 * names this extension does not know are left out (a newer server may offer
 * more than it can send).
 */
function actions(value: unknown): Action[] {
  const given = Array.isArray(value) ? value : [];
  return ACTIONS.filter((action) => given.includes(action));
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Reads one step from a server payload. Accepts `id` or `step` for the step's
 * id and camelCase or snake_case field names, because the same shape comes from
 * `agent/state`, `agent.status` and `agent.runs`.
 */
export function parseStep(value: unknown): StepState | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const id = str(value.id) ?? str(value.step);
  const status = str(value.status);
  if (id === undefined || status === undefined || !STEP_STATUSES.includes(status)) {
    return undefined;
  }
  return {
    id,
    title: str(value.title) ?? null,
    status: status as StepStatus,
    attempt: num(value.attempt) ?? null,
    exitCode: num(value.exitCode) ?? num(value.exit_code) ?? null,
    error: str(value.error) ?? null,
    actions: actions(value.actions),
  };
}

/** Reads one run from `agent/state`, `agent.status` or an `agent.runs` entry. */
export function parseRun(value: unknown): RunState | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const runId = str(value.runId) ?? str(value.run_id) ?? str(value.id);
  const status = str(value.status);
  if (runId === undefined || status === undefined || !RUN_STATUSES.includes(status)) {
    return undefined;
  }
  const steps = Array.isArray(value.steps)
    ? value.steps.map(parseStep).filter((s): s is StepState => s !== undefined)
    : [];
  const run: RunState = {
    runId,
    status: status as RunStatus,
    steps,
    workflow: str(value.workflow),
    title: str(value.title) ?? null,
    error: str(value.error) ?? null,
    actions: actions(value.actions),
  };
  const isolation = parseIsolation(value.isolation);
  if (isolation) {
    run.isolation = isolation;
  }
  return run;
}

function parseIsolation(value: unknown): Isolation | undefined {
  if (!isObject(value) || str(value.state) === undefined) {
    return undefined;
  }
  return {
    state: str(value.state)!,
    worktree: str(value.worktree),
    branch: str(value.branch),
    base: str(value.base) ?? null,
  };
}

/**
 * What a run's worktree accepts now: `diff` while it exists (`active`),
 * `apply` once the run completed, `discard` while it is not applied or
 * discarded and no task drives the run (the server refuses a running one).
 */
export function worktreeActions(run: RunState): WorktreeAction[] {
  const state = run.isolation?.state;
  const driven = run.status === 'queued' || run.status === 'running';
  const offered: WorktreeAction[] = [];
  if (state === 'active') {
    offered.push('diff');
    if (run.status === 'completed') {
      offered.push('apply');
    }
  }
  if ((state === 'active' || state === 'pending') && !driven) {
    offered.push('discard');
  }
  return offered;
}

/** `agent.diff`'s result: a worktree run's patch and the file it was written to. */
export interface RunDiff {
  runId: string;
  files: string[];
  patch: string;
  /** The patch as a `.diff` file the editor opens, when the server wrote one. */
  uri?: string;
}

export function parseDiff(value: unknown): RunDiff | undefined {
  if (!isObject(value) || str(value.runId) === undefined || str(value.patch) === undefined) {
    return undefined;
  }
  return {
    runId: str(value.runId)!,
    files: Array.isArray(value.files) ? value.files.filter((f): f is string => typeof f === 'string') : [],
    patch: str(value.patch)!,
    uri: str(value.uri),
  };
}

/** Reads the result of `agent.runs` or `agent.status` (a list, `{runs}`, or one run). */
export function parseRunList(value: unknown): RunState[] {
  const list = Array.isArray(value)
    ? value
    : isObject(value) && Array.isArray(value.runs)
      ? value.runs
      : isObject(value)
        ? [value]
        : [];
  return list.map(parseRun).filter((r): r is RunState => r !== undefined);
}

/** Reads `agent/output`; undefined when a field is missing or of the wrong type. */
export function parseOutput(value: unknown): OutputParams | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const runId = str(value.runId);
  const step = str(value.step);
  const text = str(value.text);
  const seq = num(value.seq);
  if (runId === undefined || step === undefined || text === undefined || seq === undefined) {
    return undefined;
  }
  return { runId, step, text, seq };
}

/** Reads the result of `agent.workflows`. */
export function parseWorkflows(value: unknown): WorkflowInfo[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.flatMap((w): WorkflowInfo[] => {
    if (!isObject(w) || typeof w.name !== 'string') {
      return [];
    }
    return [
      {
        name: w.name,
        title: str(w.title) ?? null,
        description: str(w.description) ?? null,
        source: str(w.source) ?? null,
        params: w.params,
      },
    ];
  });
}

/**
 * A workflow's declared parameters, from either a list
 * (`[{name, description, default, required}]`) or a map
 * (`{name: {description, default, required}}` or `{name: "default"}`).
 */
export function workflowParams(workflow: WorkflowInfo): WorkflowParam[] {
  const raw = workflow.params;
  const fromSpec = (name: string, spec: unknown): WorkflowParam => {
    if (typeof spec === 'string') {
      return { name, default: spec, required: false };
    }
    const o = isObject(spec) ? spec : {};
    return {
      name,
      description: str(o.description),
      default: str(o.default),
      required: o.required === true,
    };
  };
  if (Array.isArray(raw)) {
    return raw.flatMap((p) =>
      isObject(p) && typeof p.name === 'string' ? [fromSpec(p.name, p)] : [],
    );
  }
  if (isObject(raw)) {
    return Object.entries(raw).map(([name, spec]) => fromSpec(name, spec));
  }
  return [];
}

/** Statuses after which a run changes no more. */
export function isFinal(status: RunStatus): boolean {
  return status === 'completed' || status === 'cancelled';
}

/** Statuses in which a run still holds the workflow's attention (cancel makes sense). */
export function isActive(status: RunStatus): boolean {
  return status === 'queued' || status === 'running' || status === 'waiting';
}

/**
 * Whether a command's error is `agent.run` refusing a workspace workflow the
 * user has not approved yet (`-32001` with `data.trustRequired`): the server
 * asks the user itself (`window/showMessageRequest`, "Trust and run"), so the
 * refusal is no error to show.
 */
export function isTrustRequired(code: number, data: unknown): boolean {
  return (
    code === -32001 &&
    typeof data === 'object' &&
    data !== null &&
    'trustRequired' in data &&
    typeof data.trustRequired === 'object' &&
    data.trustRequired !== null
  );
}
