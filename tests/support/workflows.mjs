// The workflows and replay cassette the editor tests run. `shout` is served by
// the replay provider; the others need no model. All are user workflows
// (trusted), so their run steps need no approval.

/** The answer the replay provider streams for `shout`, chunk by chunk. */
export const SHOUT_CHUNKS = ['Here you go:\n', '```\n', 'HELLO ', 'FROM ', 'AGENTLS\n', '```\n'];
export const SHOUT_ANSWER = SHOUT_CHUNKS.join('');
export const SHOUT_EDIT = 'HELLO FROM AGENTLS\n';
export const SHOUT_LOCAL_ANSWER = 'streamed answer: HELLO FROM AGENTLS';

export const WORKFLOWS = {
  shout: `title = "Shout the selection"
description = "Asks the model to upper-case the selection, then replaces it with the answer."

[applies]
selection = true

[[steps]]
id = "ask"
title = "Ask the model"
prompt = """Upper-case this text and answer with one code block:
{{ selection }}"""
provider = "scripted"

[[steps]]
id = "apply"
title = "Replace the selection"
edit = { selection = "{{ steps.ask.output | code }}" }
`,
  // The same edit without a model: a command streams the text, a template edits.
  shout_local: `title = "Shout the selection (no model)"

[applies]
selection = true

[[steps]]
id = "say"
run = "printf 'streamed answer: %s\\n' 'HELLO FROM AGENTLS'"

[[steps]]
id = "apply"
title = "Replace the selection"
edit = { selection = "{{ selection | upper }}" }
`,
  slow: `title = "Wait for a long time"

[[steps]]
id = "wait"
run = "echo waiting; sleep 100"
`,
  gate: `title = "Ask before going on"

[[steps]]
id = "confirm"
approve = "Go on?"

[[steps]]
id = "done"
run = "echo approved"
`,
  flaky: `title = "Fails the first time"

[[steps]]
id = "check"
run = "if [ -e .flaky-ok ]; then echo second attempt passes; else touch .flaky-ok; echo first attempt fails; exit 1; fi"
`,
};

/** The user config: a replay provider named `scripted` reading the test's cassette. */
export const CONFIG = `[providers.scripted]
kind = "replay"
cassette = "@CASSETTE@"
`;

/** A cassette with `count` identical answers (replay serves one entry per call). */
export function cassette(count = 1) {
  const entry = {
    provider: 'scripted',
    model: 'replay',
    prompt: 'Upper-case this text',
    chunks: SHOUT_CHUNKS,
    usage: { input_tokens: 12, output_tokens: 9, cached_tokens: 0 },
    stop_reason: 'end_turn',
    request_id: 'req_test',
  };
  return { version: 1, entries: Array.from({ length: count }, () => entry) };
}

export const SAMPLE = 'first line\nhello from agentls\nlast line\n';

/**
 * A workflow isolated in a worktree (docs/workflows.md "Isolation"): its
 * command writes SAMPLE with the middle line shouted, in the run's worktree.
 * Not in WORKFLOWS: it needs the workspace to be a git repository (gitRepo).
 */
export const ISOLATED = `title = "Shout the sample in a worktree"
isolation = "worktree"

[[steps]]
id = "shout"
run = "printf 'first line\\\\nHELLO FROM AGENTLS\\\\nlast line\\\\n' > src/sample.txt"
`;
