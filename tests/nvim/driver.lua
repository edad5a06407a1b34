-- What a user does in Neovim, scripted: one scenario per Neovim process,
-- chosen by $AGENTLS_TEST_SCENARIO. Neovim was started with the user's
-- init.lua from docs/editors.md and the file to edit; this file only types
-- keys and commands and looks at buffers, windows and events. Results go to
-- $AGENTLS_TEST_RESULT as JSON: { checks = { {name, ok, detail} }, error }.
local expect = vim.json.decode(os.getenv("AGENTLS_TEST_EXPECT") or "{}")
local checks = {}

local function check(name, ok, detail)
  table.insert(checks, { name = name, ok = ok and true or false, detail = (not ok and detail ~= nil) and vim.inspect(detail) or nil })
end

local function wait(what, ms, condition)
  if not vim.wait(ms, condition, 5) then
    error(("timed out after %d ms waiting for %s"):format(ms, what), 2)
  end
end

local function lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

local function text(buf)
  return table.concat(lines(buf), "\n")
end

--- Types keys as the user would (mappings apply, `:` in Visual mode inserts '<,'>).
local function feed(keys)
  vim.api.nvim_feedkeys(vim.keycode(keys), "xt", false)
end

local progress = {}
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    table.insert(progress, ev.data.params.value)
  end,
})
local started = {}
vim.api.nvim_create_autocmd("User", {
  pattern = "AgentlsRunStarted",
  callback = function(ev)
    table.insert(started, ev.data.runId)
  end,
})

local function wait_client()
  wait("the agentls client to start", 20000, function()
    local client = vim.lsp.get_clients({ name = "agentls", bufnr = 0 })[1]
    return client and client.server_capabilities ~= nil
  end)
end

local runs = function()
  return require("agentls.runs")
end

local function wait_started(count)
  wait("a run to start", 10000, function()
    return #started >= count
  end)
  return started[count]
end

local function wait_status(id, statuses, ms)
  local wanted = {}
  for _, s in ipairs(statuses) do
    wanted[s] = true
  end
  wait(("run %s to be %s"):format(id, table.concat(statuses, " or ")), ms or 20000, function()
    local r = runs().by_id[id]
    return r and wanted[r.status]
  end)
  return runs().by_id[id]
end

local function output_buf(id)
  return vim.fn.bufnr("agentls://output/" .. id)
end

local scenarios = {}

--- Visual selection, `:Agent run <expect.workflow>`; the edit and the
--- streamed `expect.answer` arrive.
function scenarios.visual_run_edits_selection_and_streams_answer()
  local src = vim.api.nvim_get_current_buf()
  local src_win = vim.api.nvim_get_current_win()
  wait_client()
  -- Line 2, linewise, then `:` and the command, as typed.
  feed("2GV:Agent run " .. expect.workflow .. "<CR>")
  local id = wait_started(1)
  local run = wait_status(id, { "completed", "failed", "cancelled" })
  check("the run completes", run.status == "completed", run)
  wait("the edit to reach the buffer", 5000, function()
    return vim.deep_equal(lines(src), expect.edited)
  end)
  check("the buffer holds the edited text", vim.deep_equal(lines(src), expect.edited), lines(src))
  local out = output_buf(id)
  check("the output buffer exists", out > 0)
  check("the output buffer holds the streamed answer", text(out):find(expect.answer, 1, true) ~= nil, lines(out))
  check("the output buffer is a scratch buffer", vim.bo[out].buftype == "nofile" and not vim.bo[out].modifiable)
  local wins = vim.fn.win_findbuf(out)
  check("the output opened in a window", #wins == 1, wins)
  if #wins == 1 then
    local row = vim.api.nvim_win_get_cursor(wins[1])[1]
    check("the output window follows the end", row == vim.api.nvim_buf_line_count(out), { row = row, lines = lines(out) })
  end
  check("the cursor stayed in the source window", vim.api.nvim_get_current_win() == src_win)
  local kinds = {}
  -- The progress end may come after the final state: both are sent, in no set order.
  vim.wait(5000, function()
    for _, value in ipairs(progress) do
      kinds[value.kind] = true
    end
    return kinds["end"]
  end, 5)
  check("progress arrived through LspProgress (begin and end)", kinds.begin and kinds["end"], progress)
  check("the statusline is empty once the run is over", require("agentls").statusline() == "", require("agentls").statusline())

  vim.cmd("Agent runs")
  local list
  wait("the run list", 5000, function()
    list = vim.fn.bufnr("agentls://runs")
    return list > 0 and text(list):find(id, 1, true) ~= nil
  end)
  check("the run list shows the run", text(list):find(expect.workflow .. "%s+completed") ~= nil, lines(list))
end

function scenarios.run_without_name_picks_and_approve_goes_on()
  wait_client()
  local offered = {}
  vim.ui.select = function(items, _, on_choice)
    for _, item in ipairs(items) do
      table.insert(offered, item.name)
    end
    for _, item in ipairs(items) do
      if item.name == "gate" then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  local subcommands = vim.fn.getcompletion("Agent ru", "cmdline")
  check("subcommands complete", vim.deep_equal(subcommands, { "run", "runs" }), subcommands)
  local names = vim.fn.getcompletion("Agent run sh", "cmdline")
  check("workflow names complete from the server", vim.deep_equal(names, { "shout", "shout_local" }), names)
  vim.cmd("Agent run")
  local id = wait_started(1)
  table.sort(offered)
  check("vim.ui.select offers the workflows", vim.tbl_contains(offered, "gate") and vim.tbl_contains(offered, "shout"), offered)
  wait_status(id, { "waiting" })
  check("the statusline says the run waits", require("agentls").statusline():find("waits for approval", 1, true) ~= nil, require("agentls").statusline())
  wait("the waiting line", 5000, function()
    return text(output_buf(id)):find("waiting at confirm", 1, true) ~= nil
  end)
  vim.cmd("Agent approve")
  local run = wait_status(id, { "completed", "failed", "cancelled" })
  check("approving lets the run complete", run.status == "completed", run)
  wait("the approved output", 5000, function()
    return text(output_buf(id)):find("approved", 1, true) ~= nil
  end)
end

function scenarios.cancel_stops_a_long_run()
  wait_client()
  vim.cmd("Agent run slow")
  local id = wait_started(1)
  wait("the command to print", 10000, function()
    local buf = output_buf(id)
    return buf > 0 and text(buf):find("waiting", 1, true) ~= nil
  end)
  local t0 = vim.uv.hrtime()
  -- The documented mapping for :Agent cancel.
  feed("<leader>ac")
  local run = wait_status(id, { "cancelled", "completed", "failed" }, 10000)
  local ms = (vim.uv.hrtime() - t0) / 1e6
  check("the run is cancelled", run.status == "cancelled", run)
  check("cancelling takes under 5 s", ms < 5000, ms)
  wait("the cancelled line", 5000, function()
    return text(output_buf(id)):find("── cancelled ──", 1, true) ~= nil
  end)
end

function scenarios.failed_step_is_retried()
  wait_client()
  vim.cmd("Agent run flaky")
  local id = wait_started(1)
  local failed = wait_status(id, { "failed" })
  check("the first attempt fails", failed.status == "failed", failed)
  vim.cmd("Agent retry")
  local run = wait_status(id, { "completed", "cancelled" })
  check("the retried run completes", run.status == "completed", run)
  wait("the second attempt's output", 5000, function()
    return text(output_buf(id)):find("second attempt passes", 1, true) ~= nil
  end)
  check("both attempts are in the output", text(output_buf(id)):find("first attempt fails", 1, true) ~= nil, lines(output_buf(id)))
end

--- A run `agentls run` was driving when it was killed (nvim.test.mjs left
--- it): the history says it is interrupted and accepts resume, not retry;
--- `r` in the run list (`:Agent resume <run>`) continues it and `:Agent
--- cancel` ends it.
function scenarios.interrupted_run_is_offered_resume_and_resumes()
  wait_client()
  vim.cmd("Agent runs")
  local run
  wait("the crashed run in the history", 10000, function()
    for _, r in ipairs(runs().list()) do
      if r.workflow == "slow" then
        run = r
        return true
      end
    end
  end)
  local id = run.runId
  check("the crashed run is interrupted", run.status == "interrupted", run)
  check("it accepts what the server lists", vim.deep_equal(run.actions, { "resume", "cancel" }), run.actions)
  local subcommands = vim.fn.getcompletion("Agent re", "cmdline")
  check("resume is a subcommand", vim.deep_equal(subcommands, { "reject", "resume", "retry" }), subcommands)
  local retry = vim.fn.getcompletion("Agent retry ", "cmdline")
  check("retry does not offer it", not vim.tbl_contains(retry, id), retry)
  local resume = vim.fn.getcompletion("Agent resume ", "cmdline")
  check("resume offers it", vim.deep_equal(resume, { id }), resume)
  local list = vim.fn.bufnr("agentls://runs")
  check("the run list shows it interrupted", text(list):find("slow%s+interrupted") ~= nil, lines(list))

  -- `r` on its line in the run list resumes it (the run offers no retry).
  check("the run list is the current buffer", vim.api.nvim_get_current_buf() == list, vim.api.nvim_get_current_buf())
  for row, line in ipairs(lines(list)) do
    if line:find(id, 1, true) then
      vim.api.nvim_win_set_cursor(0, { row, 0 })
    end
  end
  feed("r")
  local resumed = wait_status(id, { "running", "cancelled", "completed", "failed" })
  check("the resumed run is running", resumed.status == "running", resumed)
  check("a running run accepts cancel only", vim.deep_equal(resumed.actions, { "cancel" }), resumed.actions)
  wait("the resumed step to print", 10000, function()
    local buf = output_buf(id)
    return buf > 0 and text(buf):find("waiting", 1, true) ~= nil
  end)
  vim.cmd("Agent cancel " .. id:sub(1, 6))
  local final = wait_status(id, { "cancelled", "completed", "failed" }, 10000)
  check("cancelling the resumed run stops it", final.status == "cancelled", final)
  check("a cancelled run accepts nothing", vim.deep_equal(final.actions, {}), final.actions)
end

--- States sent the way the server sends them, some with actions that the
--- status alone would not give: the commands offer what `actions` lists.
function scenarios.commands_follow_the_actions_the_server_sends()
  wait_client()
  local client = vim.lsp.get_clients({ name = "agentls", bufnr = 0 })[1]
  local function state(json)
    require("agentls.runs").on_state(vim.json.decode(json), client.id)
  end
  state([[{"runId": "held-0001", "workflow": "fix", "title": null, "status": "failed", "error": "boom",
           "actions": [], "steps": [{"id": "test", "title": null, "kind": "run", "status": "failed",
           "actions": [], "attempt": 1, "exitCode": 1, "error": "boom"}]}]])
  state([[{"runId": "free-0002", "workflow": "fix", "title": null, "status": "failed", "error": "boom",
           "actions": ["retry", "skip", "override", "resume", "cancel"],
           "steps": [{"id": "test", "title": null, "kind": "run", "status": "failed",
           "actions": ["retry", "skip", "override"], "attempt": 1, "exitCode": 1, "error": "boom"}]}]])
  state([[{"runId": "gate-0003", "workflow": "gate", "title": null, "status": "waiting", "error": null,
           "steps": []}]])
  local free = runs().by_id["free-0002"]
  check("step actions are read", vim.deep_equal(free.steps[1].actions, { "retry", "skip", "override" }), free.steps[1])
  local function completes(sub)
    return vim.fn.getcompletion("Agent " .. sub .. " ", "cmdline")
  end
  check("retry offers only the run whose actions list it", vim.deep_equal(completes("retry"), { "free-0002" }), completes("retry"))
  check("skip likewise", vim.deep_equal(completes("skip"), { "free-0002" }), completes("skip"))
  check("resume likewise", vim.deep_equal(completes("resume"), { "free-0002" }), completes("resume"))
  check("a waiting run that lists no actions offers no approve", vim.deep_equal(completes("approve"), {}), completes("approve"))

  local said = {}
  local notify = vim.notify
  vim.notify = function(message, level)
    table.insert(said, { message = message, level = level })
  end
  vim.cmd("Agent approve")
  vim.notify = notify
  check("without a run that accepts it, :Agent approve says so", #said == 1 and said[1].message:find("no run to approve", 1, true) ~= nil, said)
end

function scenarios.checkhealth_reports_binary_state_and_keys()
  wait_client()
  vim.cmd("checkhealth agentls")
  local report = text(0)
  check("reports the binary and its version", report:find("agentls " .. expect.version, 1, true) ~= nil, report)
  check("reports the state directory", report:find(expect.state_dir, 1, true) ~= nil, report)
  check("reports a set key", report:find("OPENAI_API_KEY is set", 1, true) ~= nil, report)
  check("reports an unset key", report:find("ANTHROPIC_API_KEY is not set", 1, true) ~= nil, report)
  check("never shows a key's value", report:find(expect.secret, 1, true) == nil, report)
  check("reports the running client", report:find("client %d+: root") ~= nil, report)
end

function scenarios.range_follows_selection_and_encoding()
  local range = require("agentls.range")
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "aé€b", "x" })
  -- Characterwise from é to €: bytes 1..3, € being three bytes long.
  feed("gg0lvl<Esc>")
  local opts = { range = 2, line1 = 1, line2 = 1 }
  check("utf-16 range covers é€", vim.deep_equal(range.from_command(buf, opts, "utf-16"), {
    start = { line = 0, character = 1 },
    ["end"] = { line = 0, character = 3 },
  }), range.from_command(buf, opts, "utf-16"))
  check("utf-8 range covers é€", vim.deep_equal(range.from_command(buf, opts, "utf-8"), {
    start = { line = 0, character = 1 },
    ["end"] = { line = 0, character = 6 },
  }), range.from_command(buf, opts, "utf-8"))
  feed("ggVj<Esc>")
  local whole = range.from_command(buf, { range = 2, line1 = 1, line2 = 2 }, "utf-16")
  check("a linewise selection covers whole lines", vim.deep_equal(whole, {
    start = { line = 0, character = 0 },
    ["end"] = { line = 1, character = 1 },
  }), whole)
  check("no range without a selection", range.from_command(buf, { range = 0, line1 = 1, line2 = 1 }, "utf-16") == nil)

  local ns = vim.api.nvim_create_namespace("agentls-test")
  vim.diagnostic.set(ns, buf, {
    { lnum = 0, col = 3, end_col = 6, message = "on €", severity = vim.diagnostic.severity.WARN, source = "test" },
    { lnum = 1, col = 0, message = "second line", severity = vim.diagnostic.severity.ERROR },
  })
  local first_line = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 4 } }
  local found = range.diagnostics(buf, first_line, "utf-16")
  check("diagnostics on the selected lines go with the run, in the client's encoding", vim.deep_equal(found, {
    {
      range = { start = { line = 0, character = 2 }, ["end"] = { line = 0, character = 3 } },
      severity = vim.diagnostic.severity.WARN,
      message = "on €",
      source = "test",
    },
  }), found)
end

--- init.lua is only `vim.lsp.enable("agentls")`: lsp/agentls.lua on the
--- runtimepath gives the config, the client attaches to the file in the
--- workspace, and a workflow runs through it with its output streamed.
function scenarios.lsp_enable_alone_attaches_and_runs_a_workflow()
  check("setup() was not called", package.loaded["agentls"] == nil and package.loaded["agentls.config"] ~= nil)
  local files = vim.api.nvim_get_runtime_file("lsp/agentls.lua", true)
  check("lsp/agentls.lua is the plugin's", #files == 1 and files[1]:find("pack/agentls/start/agentls/lsp/agentls.lua", 1, true) ~= nil, files)
  check("the file leaves capabilities to Neovim and vim.lsp.config('*')", dofile(files[1]).capabilities == nil)
  wait_client()
  local client = vim.lsp.get_clients({ name = "agentls", bufnr = 0 })[1]
  check("the client still has Neovim's capabilities", vim.tbl_get(client.capabilities, "workspace", "applyEdit") == true, client.capabilities)
  check("the client runs `agentls serve`", vim.deep_equal(client.config.cmd, { "agentls", "serve" }), client.config.cmd)
  check("the root is the workspace", client.root_dir == expect.workspace, client.root_dir)
  check("run events are asked for", vim.tbl_get(client.config, "init_options", "agentls", "runEvents") == true, client.config.init_options)
  scenarios.visual_run_edits_selection_and_streams_answer()
end

--- Benchmark: from `:Agent run` (typed, on a visual selection) to the first
--- streamed character in the run's output buffer, `expect.runs` times.
--- Not a test: it reports `samples` (ms) and checks only that runs completed.
local samples = {}
function scenarios.bench_first_output()
  local output = require("agentls.output")
  local first = {}
  local append = output.append
  output.append = function(run_id, ...)
    append(run_id, ...)
    first[run_id] = first[run_id] or vim.uv.hrtime()
  end
  local src = vim.api.nvim_get_current_buf()
  local src_win = vim.api.nvim_get_current_win()
  wait_client()
  local completed = 0
  for i = 1, expect.runs do
    vim.api.nvim_set_current_win(src_win)
    vim.api.nvim_buf_set_lines(src, 0, -1, false, expect.sample)
    local t0 = vim.uv.hrtime()
    feed("2GV:Agent run " .. expect.workflow .. "<CR>")
    local id = wait_started(i)
    if not vim.wait(10000, function()
      return first[id] ~= nil
    end, 1) then
      error("no output from run " .. id)
    end
    table.insert(samples, (first[id] - t0) / 1e6)
    if wait_status(id, { "completed", "failed", "cancelled" }).status == "completed" then
      completed = completed + 1
    end
  end
  check("every benchmarked run completed", completed == expect.runs, completed)
end

--- A workflow isolated in a worktree (the workspace is a git repository):
--- the run leaves the buffer alone; `:Agent diff` shows its patch in a diff
--- buffer; `:Agent apply` is refused naming the file while the buffer
--- changed the same line, then applies into the buffer; `:Agent discard`
--- asks, keeps the worktree on "Keep", removes it on "Discard".
function scenarios.worktree_run_diff_apply_discard()
  local src = vim.api.nvim_get_current_buf()
  local src_win = vim.api.nvim_get_current_win()
  local original = lines(src)
  wait_client()
  local client = require("agentls.lsp").client(src)
  local function status(id)
    return require("agentls.lsp").execute_sync(client, "agent.status", { runId = id }, 5000, src)
  end
  local notes = {}
  vim.notify = function(message, level)
    table.insert(notes, { message = message, level = level })
  end
  local function wait_note(what, pattern)
    local found
    wait(what, 20000, function()
      for _, note in ipairs(notes) do
        if note.message:find(pattern) then
          found = note
          return true
        end
      end
    end)
    return found
  end

  vim.cmd("Agent run isolated")
  local id = wait_started(1)
  local run = wait_status(id, { "completed", "failed", "cancelled" })
  check("the worktree run completes", run.status == "completed", run)
  check("the run left the buffer alone", vim.deep_equal(lines(src), original), lines(src))
  local isolation = (status(id) or {}).isolation or {}
  check("agent.status says the worktree is active", isolation.state == "active", isolation)

  vim.cmd("Agent diff")
  local diff = -1
  wait("the diff buffer", 10000, function()
    diff = vim.fn.bufnr("agentls://diff/" .. id)
    return diff > 0
  end)
  check("the newest run's diff opens in its buffer", diff > 0 and vim.api.nvim_get_current_buf() == diff, vim.api.nvim_buf_get_name(0))
  if diff > 0 then
    check("the diff buffer is a scratch diff", vim.bo[diff].filetype == "diff" and vim.bo[diff].buftype == "nofile" and not vim.bo[diff].modifiable)
    check("the diff shows the run's change", text(diff):find("-hello from agentls\n+HELLO FROM AGENTLS", 1, true) ~= nil and text(diff):find("src/sample.txt", 1, true) ~= nil, lines(diff))
    check("the diff buffer names its run", vim.b[diff].agentls_run == id)
  end

  -- The user changed the line the run changed: apply is refused, naming the file.
  vim.api.nvim_buf_set_lines(src, 1, 2, false, { "edited by me" })
  vim.cmd("Agent apply")
  local refused = wait_note("apply's refusal", "agent%.apply failed")
  check("apply's refusal names the file", refused.message:find("src/sample.txt", 1, true) ~= nil and refused.level == vim.log.levels.ERROR, refused)
  check("nothing was applied", lines(src)[2] == "edited by me", lines(src))
  check("the worktree stays after a refusal", ((status(id) or {}).isolation or {}).state == "active")

  -- Put the line back and apply from the diff buffer (its run).
  vim.api.nvim_buf_set_lines(src, 0, -1, false, original)
  local diff_wins = vim.fn.win_findbuf(diff)
  check("the diff is still shown", #diff_wins == 1, { wins = diff_wins, current = vim.api.nvim_buf_get_name(0) })
  if #diff_wins == 1 then
    vim.api.nvim_set_current_win(diff_wins[1])
  end
  vim.cmd("Agent apply")
  wait("the patch to reach the buffer", 20000, function()
    return vim.deep_equal(lines(src), expect.edited)
  end)
  check("apply edits the open buffer", vim.deep_equal(lines(src), expect.edited), lines(src))
  -- The server records `applied`, then removes the worktree.
  wait("the worktree to be applied and removed", 20000, function()
    return ((status(id) or {}).isolation or {}).state == "applied" and vim.fn.isdirectory(isolation.worktree or "") == 0
  end)
  check("the applied run's worktree is removed", vim.fn.isdirectory(isolation.worktree or "") == 0, isolation.worktree)

  -- A second run, discarded.
  vim.api.nvim_set_current_win(src_win)
  vim.cmd("Agent run isolated")
  local second = wait_started(2)
  check("the second run completes", wait_status(second, { "completed", "failed", "cancelled" }).status == "completed")
  local worktree = ((status(second) or {}).isolation or {}).worktree
  check("the second run has its worktree", worktree ~= nil and vim.fn.isdirectory(worktree) == 1, worktree)
  local asked = {}
  local answer = "Keep"
  vim.ui.select = function(items, opts, on_choice)
    table.insert(asked, opts.prompt)
    on_choice(vim.tbl_contains(items, answer) and answer or nil)
  end
  vim.cmd("Agent discard " .. second)
  check("discard asks first", #asked == 1 and asked[1]:find(second, 1, true) ~= nil, asked)
  check("Keep keeps the worktree", ((status(second) or {}).isolation or {}).state == "active" and vim.fn.isdirectory(worktree) == 1)
  answer = "Discard"
  vim.cmd("Agent discard")
  check("discard without a run names the newest", #asked == 2 and asked[2]:find("newest", 1, true) ~= nil, asked)
  local note = wait_note("the discard", "worktree discarded")
  check("discard says the worktree is discarded", note.message:find(second, 1, true) ~= nil, note)
  check("the discarded run's worktree is removed", vim.fn.isdirectory(worktree) == 0, worktree)
  check("the buffer keeps the applied text", vim.deep_equal(lines(src), expect.edited), lines(src))
end

local name = os.getenv("AGENTLS_TEST_SCENARIO")
local ok, err = xpcall(function()
  local scenario = scenarios[name]
  if not scenario then
    error("unknown scenario " .. tostring(name))
  end
  scenario()
end, debug.traceback)

local file = assert(io.open(os.getenv("AGENTLS_TEST_RESULT"), "w"))
file:write(vim.json.encode({ checks = checks, samples = samples, error = (not ok) and err or vim.NIL }))
file:close()
vim.cmd(ok and "qall!" or "cquit! 1")
