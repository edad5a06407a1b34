// Benchmark: from `:Agent run` to the first streamed character in the Neovim
// output buffer, with the replay provider. Neovim 0.11 headless, set up as
// docs/editors.md says; the command is typed on a visual selection, and the
// clock stops when the first agent/output text is written into the buffer.
//
//   node tests/nvim/bench.mjs [runs]        (AGENTLS_BIN, NVIM_BIN as for the tests)
//
// Prints p50, p90, min and max over the runs after a first warm-up run
// (which also opens the workspace's store), and the warm-up itself.
import { execFileSync } from 'node:child_process';

import { agentlsBin } from '../support/env.mjs';
import { cassette, CONFIG, SAMPLE, WORKFLOWS } from '../support/workflows.mjs';
import { NVIM, nvimWorld, runNvim } from './world.mjs';

const runs = Number(process.argv[2] ?? 50) + 1;
const world = nvimWorld({
  workflows: WORKFLOWS,
  config: CONFIG,
  files: { 'src/sample.txt': SAMPLE },
  cassette: cassette(runs),
});
const { result, code, context } = await runNvim(world, 'bench_first_output', {
  expect: { runs, workflow: 'shout', sample: SAMPLE.replace(/\n$/, '').split('\n') },
  timeout: 600_000,
});
world.cleanup();
if (!result || result.error !== null || code !== 0 || result.checks.some((c) => !c.ok)) {
  console.error(JSON.stringify(result?.checks), result?.error, context);
  process.exit(1);
}
const [warmup, ...samples] = result.samples;
const sorted = [...samples].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (v) => `${v.toFixed(1)} ms`;
console.log(`agentls: ${execFileSync(agentlsBin(), ['--version']).toString().trim()} (${agentlsBin()})`);
console.log(`nvim: ${execFileSync(NVIM, ['--version']).toString().split('\n')[0]}`);
console.log(`runs: ${samples.length} (+1 warm-up: ${ms(warmup)})`);
console.log(`:Agent run -> first output character: p50 ${ms(pct(50))}, p90 ${ms(pct(90))}, min ${ms(sorted[0])}, max ${ms(sorted[sorted.length - 1])}`);
