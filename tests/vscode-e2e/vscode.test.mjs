// The VS Code extension inside real VS Code (code-server 4.139, VS Code
// 1.139) in headless Chromium, used as a person uses it: the packaged .vsix
// installed into a fresh profile, a workspace opened, commands typed into the
// command palette, rows and buttons clicked. Every step saves a screenshot
// under tests/vscode-e2e/artifacts/ and logs its path; a failing step logs
// the path of its screenshot of the failure.
//
// Needs what install.sh installs; run.sh runs it (scripts/test-editors.sh
// calls run.sh). The .vsix files come from $AGENTLS_E2E_VSIX (universal) and
// $AGENTLS_E2E_PLATFORM_VSIX (linux-x64, bundling agentls), which run.sh
// packages.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { WORKFLOWS } from '../support/workflows.mjs';
import { agentlsBin, installExtension, makeProfile, openWorkbench, startCodeServer } from './codeserver.mjs';
import {
  accept,
  agentStatus,
  editorText,
  notification,
  openFile,
  palette,
  quickPickRows,
  rowAction,
  runRow,
  selectLine,
  selectionStatus,
  waitForEditorText,
  waitForOutput,
} from './workbench.mjs';

const universalVsix = process.env.AGENTLS_E2E_VSIX;
const platformVsix = process.env.AGENTLS_E2E_PLATFORM_VSIX;

const SAMPLE = 'first line\nhello from agentls\nlast line\n';
const WRAPPED = '[HELLO FROM AGENTLS]';

/** User workflows (trusted): no approval needed for their run steps. */
const USER_WORKFLOWS = {
  // A longer replacement than the selection: the whole of it must stay selected.
  wrap: `title = "Wrap the selection"
description = "Upper-cases the selection in brackets."

[applies]
selection = true

[[steps]]
id = "say"
title = "Say what comes"
run = "printf 'streamed answer: %s\\n' 'HELLO FROM AGENTLS'"

[[steps]]
id = "apply"
title = "Replace the selection"
edit = { selection = "[{{ selection | upper }}]" }
`,
  flaky: WORKFLOWS.flaky,
  slow: WORKFLOWS.slow,
  broken: `title = "Fails, then goes on"

[[steps]]
id = "check"
run = "echo the check is broken; exit 3"

[[steps]]
id = "after"
run = "echo after the skipped step"
`,
};

/**
 * Agent steps whose model is a `replay` provider playing the hand-written
 * CASSETTE (docs/providers.md): it asks to run a command that its `allow`
 * rules do not cover, so agentls asks the user in a notification.
 */
const AGENT_WORKFLOWS = {
  // Their ids sort after `local`: the workflow list check reads the first
  // rows of a virtual list, which must still hold the workspace workflow.
  'tool-allowed': `title = "An agent asks to create a file"

[[steps]]
id = "touch"
title = "Create approved.txt"
agent = "Create approved.txt."
tools = ["run_command"]
allow = { run = ["echo *"] }
max_turns = 4
`,
  'tool-denied': `title = "An agent is denied a command"

[[steps]]
id = "touch"
title = "Create denied.txt"
agent = "Create denied.txt."
provider = "scripted_deny"
tools = ["run_command"]
allow = { run = ["echo *"] }
max_turns = 4
`,
};

/** One provider per workflow: a replay provider's place in the file lasts the session. */
const CASSETTE = JSON.stringify({
  version: 2,
  entries: [
    { provider: 'scripted', text: 'Creating the file.', tool_calls: [{ name: 'run_command', input: { command: 'touch approved.txt' } }] },
    { provider: 'scripted', text: 'approved.txt is there now.' },
    { provider: 'scripted_deny', text: 'Creating the file.', tool_calls: [{ name: 'run_command', input: { command: 'touch denied.txt' } }] },
    { provider: 'scripted_deny', text: 'The user said no, so denied.txt stays uncreated.' },
  ],
}, null, 2);

const USER_CONFIG = `default_provider = "scripted"

[providers.scripted]
kind = "replay"
cassette = "{{agentls}}/cassette.json"

[providers.scripted_deny]
kind = "replay"
cassette = "{{agentls}}/cassette.json"
`;

/** A workspace workflow: runs a command, so agentls asks the user to trust it first. */
const WORKSPACE_FILES = {
  'sample.txt': SAMPLE,
  '.agentls/workflows/local.toml': `title = "Workspace greeting"

[[steps]]
id = "greet"
run = "echo hello from the workspace workflow"
`,
};

/**
 * One user action of the suite: a failure saves a screenshot of the moment
 * and logs its path before the test fails.
 */
async function step(ui, name, body) {
  try {
    await body();
    await ui.shot(name);
  } catch (error) {
    try {
      const file = await ui.shot(`FAILED-${name}`);
      console.log(`FAILED at "${name}": screenshot ${file}`);
    } catch (shotError) {
      console.log(`FAILED at "${name}" (no screenshot: ${shotError.message})`);
    }
    throw error;
  }
}

/** Runs `title` through "Agent: Run Workflow…" in the palette. */
async function runWorkflow(page, title) {
  await palette(page, 'Agent: Run Workflow');
  await accept(page, title, { title: 'Agent: Run Workflow' });
}

describe('the extension in code-server, from the universal .vsix with agentls.path', { skip: !universalVsix && 'AGENTLS_E2E_VSIX is not set (run tests/vscode-e2e/run.sh)' }, () => {
  let profile;
  let server;
  let ui;

  before(async () => {
    profile = makeProfile('universal', {
      userWorkflows: { ...USER_WORKFLOWS, ...AGENT_WORKFLOWS },
      userFiles: { 'config.toml': USER_CONFIG, 'cassette.json': CASSETTE },
      workspaceFiles: WORKSPACE_FILES,
      // code-server is a remote window: a machine setting is read from the
      // Machine settings, not from User settings.
      machineSettings: { 'agentls.path': agentlsBin() },
    });
    installExtension(profile, universalVsix);
    server = await startCodeServer(profile);
    ui = await openWorkbench(profile, server);
  });

  after(async () => {
    await ui?.browser.close();
    await server?.stop();
  });

  test('the_server_starts_and_the_status_bar_says_so', async () => {
    await step(ui, 'server-started', async () => {
      // "$(hubot) Agent" only once the client reports the server running.
      await agentStatus(ui.page).filter({ has: ui.page.locator('.codicon-hubot') }).waitFor({ timeout: 60_000 });
    });
  });

  test('run_workflow_lists_workflows_and_the_edit_lands_with_the_new_text_selected', async () => {
    const { page } = ui;
    await step(ui, 'sample-selected', async () => {
      await openFile(page, 'sample.txt');
      await selectLine(page, 2);
      await selectionStatus(page).filter({ hasText: '(18 selected)' }).waitFor();
    });
    await step(ui, 'workflow-list', async () => {
      await palette(page, 'Agent: Run Workflow');
      await page.locator('.quick-input-widget .quick-input-title').filter({ hasText: 'Agent: Run Workflow' }).waitFor();
      // The list is virtual: only its first rows are on the page until it scrolls.
      const rows = (await quickPickRows(page, 'Fails the first time')).join('\n');
      for (const [title, source] of [['Fails, then goes on', 'user'], ['Fails the first time', 'user'], ['Workspace greeting', 'workspace']]) {
        assert.match(rows, new RegExp(`${title}.*\\s+${source}`), `the workflow list shows ${title} (${source}):\n${rows}`);
      }
    });
    await step(ui, 'edit-landed', async () => {
      await accept(page, 'Wrap the selection', { title: 'Agent: Run Workflow' });
      await waitForEditorText(page, WRAPPED);
      assert.match(await editorText(page), /first line\s+\[HELLO FROM AGENTLS\]\s+last line/);
      // The whole replacement stays selected, as after VS Code's own transforms.
      await selectionStatus(page).filter({ hasText: `(${WRAPPED.length} selected)` }).waitFor();
    });
  });

  test('the_output_channel_shows_the_step_output', async () => {
    await step(ui, 'output-channel', async () => {
      const text = await waitForOutput(ui.page, 'streamed answer: HELLO FROM AGENTLS');
      assert.match(text, /wrap .* · say/);
    });
  });

  test('the_runs_view_shows_the_run_with_its_steps', async () => {
    const { page } = ui;
    await step(ui, 'runs-view', async () => {
      await palette(page, 'Agent: Show Runs');
      const row = runRow(page, 'wrap', 'completed');
      await row.waitFor();
      await row.locator('.monaco-tl-twistie').click();
      await page.locator('.part.sidebar .monaco-list-row').filter({ hasText: 'Say what comes' }).waitFor();
      await page.locator('.part.sidebar .monaco-list-row').filter({ hasText: 'Replace the selection' }).waitFor();
    });
  });

  test('a_failed_run_offers_retry_and_retry_runs_the_step_again', async () => {
    const { page } = ui;
    await step(ui, 'flaky-failed', async () => {
      await runWorkflow(page, 'Fails the first time');
      await palette(page, 'Agent: Show Runs');
      await runRow(page, 'flaky', 'failed').waitFor();
    });
    await step(ui, 'flaky-retried', async () => {
      await rowAction(runRow(page, 'flaky', 'failed'), 'Retry Step');
      await runRow(page, 'flaky', 'completed').waitFor();
    });
  });

  test('a_failed_run_offers_skip_and_skip_goes_on_with_the_next_step', async () => {
    const { page } = ui;
    await step(ui, 'broken-failed', async () => {
      await runWorkflow(page, 'Fails, then goes on');
      await palette(page, 'Agent: Show Runs');
      await runRow(page, 'broken', 'failed').waitFor();
    });
    await step(ui, 'broken-skipped', async () => {
      await rowAction(runRow(page, 'broken', 'failed'), 'Skip Step');
      await runRow(page, 'broken', 'completed').waitFor();
      await waitForOutput(page, 'after the skipped step');
    });
  });

  test('cancel_stops_a_long_run', async () => {
    const { page } = ui;
    await step(ui, 'slow-running', async () => {
      await runWorkflow(page, 'Wait for a long time');
      await waitForOutput(page, 'waiting');
      await palette(page, 'Agent: Show Runs');
      await runRow(page, 'slow', 'running').waitFor();
    });
    await step(ui, 'slow-cancelled', async () => {
      await until(() => sleepsUnder(profile.workspace).length > 0, 'the run\'s `sleep 100` runs');
      await rowAction(runRow(page, 'slow', 'running'), 'Cancel Run');
      await runRow(page, 'slow', 'cancelled').waitFor();
      // The command is gone too, not only the run's state.
      await until(() => sleepsUnder(profile.workspace).length === 0, 'the cancelled run\'s `sleep 100` has ended');
    });
  });

  test('a_workspace_workflow_asks_for_trust_and_runs_after_trust_and_run', async () => {
    const { page } = ui;
    await step(ui, 'trust-asked', async () => {
      await runWorkflow(page, 'Workspace greeting');
      await notification(page, 'has not been approved').waitFor();
    });
    await step(ui, 'trusted-and-ran', async () => {
      await notification(page, 'has not been approved').locator('.monaco-button', { hasText: 'Trust and run' }).click();
      await waitForOutput(page, 'hello from the workspace workflow');
      await palette(page, 'Agent: Show Runs');
      await runRow(page, 'local', 'completed').waitFor();
      // A question, not an error: the refusal that asked is not shown as a
      // failure (error toasts stay until closed).
      assert.equal(await notification(page, 'agent.run failed').count(), 0);
    });
  });

  test('an_agent_asks_to_run_a_command_and_allow_once_runs_it', async () => {
    const { page } = ui;
    const question = 'agentls: `tool-allowed` (step `touch`) wants to run `touch approved.txt`';
    await step(ui, 'agent-asks', async () => {
      await runWorkflow(page, 'An agent asks to create a file');
      const toast = notification(page, question);
      await toast.waitFor();
      for (const button of ['Allow once', 'Allow for this run', 'Deny']) {
        await toast.locator('.monaco-button', { hasText: button }).waitFor();
      }
      await agentStatus(page).filter({ hasText: 'Agent: approve Create approved.txt' }).waitFor();
      await palette(page, 'Agent: Show Runs');
      await runRow(page, 'tool-allowed', 'waiting').waitFor();
      assert.equal(existsSync(path.join(profile.workspace, 'approved.txt')), false, 'nothing runs before the answer');
    });
    await step(ui, 'agent-allowed-once', async () => {
      await notification(page, question).locator('.monaco-button', { hasText: 'Allow once' }).click();
      await runRow(page, 'tool-allowed', 'completed').waitFor();
      assert.ok(existsSync(path.join(profile.workspace, 'approved.txt')), 'the allowed command created approved.txt');
      await waitForOutput(page, 'approved.txt is there now.');
    });
  });

  test('an_agent_denied_a_command_goes_on_without_it', async () => {
    const { page } = ui;
    const question = 'agentls: `tool-denied` (step `touch`) wants to run `touch denied.txt`';
    await step(ui, 'agent-asks-again', async () => {
      await runWorkflow(page, 'An agent is denied a command');
      await notification(page, question).waitFor();
    });
    await step(ui, 'agent-denied', async () => {
      await notification(page, question).locator('.monaco-button', { hasText: 'Deny' }).click();
      // The model's next turn answers, so the run completes.
      await palette(page, 'Agent: Show Runs');
      await runRow(page, 'tool-denied', 'completed').waitFor();
      await waitForOutput(page, 'denied.txt stays uncreated');
      assert.equal(existsSync(path.join(profile.workspace, 'denied.txt')), false, 'the denied command did not run');
    });
  });
});

/** Waits for `condition` about processes (no event tells of them), 10 s at most. */
async function until(condition, what) {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `within 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The `sleep 100` processes (the `slow` workflow's step) working in `dir`. */
function sleepsUnder(dir) {
  const found = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0]) === 'sleep' && argv[1] === '100' && readlinkSync(`/proc/${pid}/cwd`) === dir) {
        found.push(pid);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** The agentls processes whose executable lies under `dir`. */
function serversUnder(dir) {
  const found = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const exe = readlinkSync(`/proc/${pid}/exe`);
      if (exe.startsWith(dir + path.sep) && path.basename(exe) === 'agentls') {
        found.push(exe);
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

describe('the platform .vsix, with no agentls.path and no agentls on PATH', { skip: !platformVsix && 'AGENTLS_E2E_PLATFORM_VSIX is not set (run tests/vscode-e2e/run.sh)' }, () => {
  let profile;
  let server;
  let ui;

  before(async () => {
    profile = makeProfile('platform', { userWorkflows: { wrap: USER_WORKFLOWS.wrap }, workspaceFiles: { 'sample.txt': SAMPLE } });
    // PATH without any folder holding an agentls.
    profile.env.PATH = profile.env.PATH.split(path.delimiter)
      .filter((dir) => dir !== '' && !existsSync(path.join(dir, 'agentls')))
      .join(path.delimiter);
    installExtension(profile, platformVsix);
    server = await startCodeServer(profile);
    ui = await openWorkbench(profile, server);
  });

  after(async () => {
    await ui?.browser.close();
    await server?.stop();
  });

  test('the_server_starts_from_the_bundled_binary_and_runs_a_workflow', async () => {
    const { page } = ui;
    assert.equal(JSON.parse(readFileSync(path.join(profile.userData, 'Machine', 'settings.json'), 'utf8'))['agentls.path'], undefined);
    await step(ui, 'bundled-server-started', async () => {
      await agentStatus(page).filter({ has: page.locator('.codicon-hubot') }).waitFor({ timeout: 60_000 });
      const servers = serversUnder(profile.extensions);
      assert.equal(servers.length, 1, `one agentls runs from the installed extension: ${servers}`);
      assert.match(servers[0], /\/agentls\.agentls-[^/]+\/server\/agentls$/);
    });
    await step(ui, 'bundled-server-edits', async () => {
      await openFile(page, 'sample.txt');
      await selectLine(page, 2);
      await runWorkflow(page, 'Wrap the selection');
      await waitForEditorText(page, WRAPPED);
    });
  });
});
