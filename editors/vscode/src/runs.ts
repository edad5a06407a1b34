/**
 * The runs the extension knows about, fed by `agent/state` notifications and
 * `agent.runs` answers, and how each run and step looks in the Runs view and
 * the status bar.
 *
 * Pure: never imports `vscode`. It describes tree items and the status bar as
 * plain data (codicon ids, context values); runsView.ts and statusBar.ts turn
 * that into VS Code objects. The context values are the contract with the
 * `view/item/context` menus in package.json.
 */

import {
  Action,
  ACTIONS,
  isFinal,
  Isolation,
  RunState,
  RunStatus,
  StepState,
  StepStatus,
  WorktreeAction,
  worktreeActions,
} from './protocol';

/** What one tree row shows. `icon` is a codicon id, `color` a theme color id. */
export interface TreeItemSpec {
  label: string;
  description: string;
  tooltip: string;
  icon: string;
  color?: string;
  /** Matched by the `viewItem` conditions of package.json's inline actions. */
  contextValue: string;
  collapsible: boolean;
}

/** A row of the Runs view: a run, or one of its steps. */
export type RunNode = { kind: 'run'; runId: string } | { kind: 'step'; runId: string; step: string };

const RUN_ICONS: Record<RunStatus, [string, string?]> = {
  queued: ['clock'],
  running: ['sync~spin'],
  waiting: ['bell', 'charts.yellow'],
  failed: ['error', 'testing.iconFailed'],
  interrupted: ['debug-pause', 'charts.orange'],
  cancelled: ['circle-slash'],
  completed: ['pass', 'testing.iconPassed'],
};

const STEP_ICONS: Record<StepStatus, [string, string?]> = {
  pending: ['circle-outline'],
  running: ['sync~spin'],
  waiting: ['bell', 'charts.yellow'],
  completed: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  skipped: ['debug-step-over'],
  cancelled: ['circle-slash'],
};

/**
 * `run` plus the actions it takes, e.g. `run:retry:skip:override:resume:cancel`,
 * always in the order of ACTIONS, so that package.json's `viewItem` patterns
 * can rely on it (`^run:resume\b`: resume is the first action the run takes).
 * A run's worktree actions come last (`run:diff:apply:discard`).
 */
function contextValue(
  kind: 'run' | 'step',
  actions: readonly Action[],
  worktree: readonly WorktreeAction[] = [],
): string {
  return [kind, ...ACTIONS.filter((action) => actions.includes(action)), ...worktree].join(':');
}

function shortId(runId: string): string {
  return runId.length > 8 ? runId.slice(0, 8) : runId;
}

/** The step a run is at: the first failed, waiting or running one. */
export function currentStep(run: RunState): StepState | undefined {
  return (
    run.steps.find((s) => s.status === 'failed') ??
    run.steps.find((s) => s.status === 'waiting') ??
    run.steps.find((s) => s.status === 'running')
  );
}

function progressText(run: RunState): string {
  const done = run.steps.filter((s) => s.status === 'completed' || s.status === 'skipped').length;
  return run.steps.length > 0 ? `${done}/${run.steps.length}` : '';
}

/** How a run looks in the Runs view. */
export function runTreeItem(run: RunState): TreeItemSpec {
  const [icon, color] = RUN_ICONS[run.status];
  const step = currentStep(run);
  const where = step && !isFinal(run.status) ? ` at ${step.title ?? step.id}` : '';
  const progress = progressText(run);
  const tooltip = [
    run.title ? `${run.title} (${run.workflow ?? 'run'} ${run.runId})` : `${run.workflow ?? 'run'} ${run.runId}`,
    `${run.status}${where}`,
    run.isolation ? `worktree ${run.isolation.state}${run.isolation.branch ? ` (${run.isolation.branch})` : ''}` : '',
    run.error ? `error: ${run.error}` : '',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return {
    label: run.workflow ?? shortId(run.runId),
    description: [run.status + where, progress].filter((s) => s !== '').join(' · '),
    tooltip,
    icon,
    color,
    contextValue: contextValue('run', run.actions, worktreeActions(run)),
    collapsible: run.steps.length > 0,
  };
}

/** How one step of a run looks in the Runs view. */
export function stepTreeItem(step: StepState): TreeItemSpec {
  const [icon, color] = STEP_ICONS[step.status];
  const attempt = step.attempt && step.attempt > 1 ? `attempt ${step.attempt}` : '';
  const exit =
    step.exitCode !== null && step.exitCode !== undefined && step.exitCode !== 0
      ? `exit ${step.exitCode}`
      : '';
  const description = [step.status, attempt, exit].filter((s) => s !== '').join(' · ');
  return {
    label: step.title ?? step.id,
    description,
    tooltip: [`${step.id}: ${description}`, step.error ? `error: ${step.error}` : '']
      .filter((line) => line !== '')
      .join('\n'),
    icon,
    color,
    contextValue: contextValue('step', step.actions),
    collapsible: false,
  };
}

/** What the status bar item says. */
export interface StatusBarSpec {
  text: string;
  tooltip: string;
  /** A theme color id for the background, for states that need the user. */
  background?: string;
}

/** The language server's process as the status bar tells it. */
export type ServerState = 'starting' | 'ready' | 'stopped';

/**
 * The status bar summary: the server while it is not ready, else the most
 * urgent of all known runs.
 */
export function statusBar(runs: readonly RunState[], server: ServerState = 'ready'): StatusBarSpec {
  if (server === 'starting') {
    return { text: '$(loading~spin) Agent', tooltip: 'Starting the agentls language server…' };
  }
  if (server === 'stopped') {
    return {
      text: '$(warning) Agent: no server',
      tooltip:
        'The agentls language server is not running: see the Agent Language Server output, ' +
        'then run "Agent: Restart Server".',
      background: 'statusBarItem.warningBackground',
    };
  }
  const waiting = runs.filter((r) => r.status === 'waiting');
  const failed = runs.filter((r) => r.status === 'failed');
  const running = runs.filter((r) => r.status === 'running' || r.status === 'queued');
  if (waiting.length > 0) {
    const run = waiting[0];
    const step = currentStep(run);
    return {
      text: `$(bell) Agent: approve ${step?.title ?? step?.id ?? run.workflow ?? ''}`.trimEnd(),
      tooltip: `${run.workflow ?? run.runId} waits for your approval. Click to see runs.`,
      background: 'statusBarItem.warningBackground',
    };
  }
  if (running.length > 0) {
    const run = running[0];
    const more = running.length > 1 ? ` (+${running.length - 1})` : '';
    const progress = progressText(run);
    return {
      text: `$(sync~spin) Agent: ${run.workflow ?? 'run'}${progress ? ' ' + progress : ''}${more}`,
      tooltip: `${running.length} run(s) in progress. Click to see runs.`,
    };
  }
  if (failed.length > 0) {
    const run = failed[0];
    return {
      text: `$(error) Agent: ${run.workflow ?? 'run'} failed`,
      tooltip: `${run.workflow ?? run.runId} stopped at a failed step: retry, skip or override it. Click to see runs.`,
      background: 'statusBarItem.errorBackground',
    };
  }
  return { text: '$(hubot) Agent', tooltip: 'No run in progress. Click to see runs.' };
}

/**
 * Runs by id, newest first. Notifications can arrive before the answer of the
 * `agent.runs` request that was sent earlier, so merging history never
 * replaces what a notification already told.
 */
export class RunsModel {
  private readonly runs = new Map<string, RunState>();
  private readonly order: string[] = [];
  private readonly live = new Set<string>();

  /** Applies an `agent/state` notification (always the latest truth for that run). */
  applyState(state: RunState): void {
    this.live.add(state.runId);
    this.put(state, true);
  }

  /** Merges `agent.runs` history; runs already known from notifications are kept. */
  mergeHistory(runs: readonly RunState[]): void {
    for (const run of runs) {
      if (!this.live.has(run.runId)) {
        this.put(run, false);
      }
    }
  }

  private put(run: RunState, newest: boolean): void {
    const known = this.runs.get(run.runId);
    // agent/state may omit the workflow name and never carries the worktree;
    // keep what we learnt earlier.
    this.runs.set(run.runId, {
      ...run,
      workflow: run.workflow ?? known?.workflow,
      isolation: run.isolation !== undefined ? run.isolation : known?.isolation,
    });
    if (!known) {
      if (newest) {
        this.order.unshift(run.runId);
      } else {
        this.order.push(run.runId);
      }
    }
  }

  /** Records the workflow of a run this client started, before any state arrives. */
  noteStarted(runId: string, workflow: string): void {
    if (!this.runs.has(runId)) {
      // No actions until the server's first state says which.
      this.runs.set(runId, { runId, workflow, status: 'queued', steps: [], actions: [] });
      this.order.unshift(runId);
    } else {
      const run = this.runs.get(runId)!;
      this.runs.set(runId, { ...run, workflow: run.workflow ?? workflow });
    }
  }

  get(runId: string): RunState | undefined {
    return this.runs.get(runId);
  }

  /** All runs, newest first. */
  list(): RunState[] {
    return this.order.map((id) => this.runs.get(id)!);
  }

  /**
   * Records a run's worktree as a command result (`agent.status`,
   * `agent.discard`) told it; `null`: the run has none.
   */
  setIsolation(runId: string, isolation: Isolation | null): void {
    const run = this.runs.get(runId);
    if (run) {
      this.runs.set(runId, { ...run, isolation });
    }
  }

  /** Runs whose worktree is not known yet (no command result read for them). */
  isolationUnknown(): RunState[] {
    return this.list().filter((run) => run.isolation === undefined);
  }

  /** Runs whose worktree accepts `action` now, newest first. */
  worktreeAccepting(action: WorktreeAction): RunState[] {
    return this.list().filter((run) => worktreeActions(run).includes(action));
  }

  /** Runs whose latest state says they accept `action`, newest first. */
  accepting(action: Action): RunState[] {
    return this.list().filter((run) => run.actions.includes(action));
  }

  clear(): void {
    this.runs.clear();
    this.order.length = 0;
    this.live.clear();
  }
}
