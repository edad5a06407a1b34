--- :Agent {run|cancel|retry|resume|skip|approve|reject|diff|apply|discard|output|runs}
--- and its completion. Each subcommand resolves what it applies to (workflow, run,
--- selection) and sends one agent.* command through lsp.lua. Which runs a
--- control command offers is what the server lists in their `actions`.
local lsp = require("agentls.lsp")
local runs = require("agentls.runs")
local output = require("agentls.output")

local M = {}

local function notify(message, level)
  vim.notify("agentls: " .. message, level or vim.log.levels.INFO)
end

local function client_or_warn(bufnr)
  local client = lsp.client(bufnr)
  if not client then
    notify(
      "the server is not running for this buffer. Did setup() or vim.lsp.enable('agentls') run, and is `agentls` installed? See :checkhealth agentls",
      vim.log.levels.ERROR
    )
  end
  return client
end

--- The document a run starts from: the buffer when it is a file.
local function document_uri(bufnr)
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return nil
  end
  return vim.uri_from_bufnr(bufnr)
end

local function on_error(command, err)
  notify(("%s failed: %s"):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
end

--- :Agent run [workflow] [name=value ...]
local function run(opts, args)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_or_warn(bufnr)
  if not client then
    return
  end
  local uri = document_uri(bufnr)
  -- Read the selection now: marks and visualmode() change once a picker opens.
  local range = uri and require("agentls.range").from_command(bufnr, opts, client.offset_encoding) or nil
  local params = {}
  local workflow
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    if key then
      params[key] = value
    elseif not workflow then
      workflow = arg
    end
  end

  local function start(name)
    local argument = { workflow = name, uri = uri, range = range }
    if next(params) then
      argument.params = params
    end
    if range then
      local diagnostics = require("agentls.range").diagnostics(bufnr, range, client.offset_encoding)
      if #diagnostics > 0 then
        argument.diagnostics = diagnostics
      end
    end
    lsp.execute(client, "agent.run", argument, function(err, result)
      if err then
        return on_error("agent.run", err)
      end
      local run_id = type(result) == "table" and result.runId or nil
      if type(run_id) ~= "string" then
        return notify("agent.run gave no run id", vim.log.levels.ERROR)
      end
      runs.started(run_id, name, client.id)
      output.buffer(run_id)
      if require("agentls.config").options.output.open then
        output.show(run_id, false)
      end
      vim.api.nvim_exec_autocmds("User", { pattern = "AgentlsRunStarted", modeline = false, data = { runId = run_id, workflow = name } })
    end, bufnr)
  end

  if workflow then
    return start(workflow)
  end
  lsp.execute(client, "agent.workflows", { uri = uri }, function(err, list)
    if err then
      return on_error("agent.workflows", err)
    end
    if type(list) ~= "table" or #list == 0 then
      return notify("no workflows found: add one to ~/.config/agentls/workflows/ or .agentls/workflows/", vim.log.levels.WARN)
    end
    vim.ui.select(list, {
      prompt = "Run workflow",
      kind = "agentls.workflow",
      format_item = function(w)
        local title = w.title ~= vim.NIL and w.title or nil
        return title and ("%s — %s"):format(w.name, title) or w.name
      end,
    }, function(choice)
      if choice then
        start(choice.name)
      end
    end)
  end, bufnr)
end

--- The run a control command applies to: an id (or unique prefix) given as
--- argument, else the run of the output buffer you are in, else the one run
--- that accepts the action (a picker when there are several). A run accepts
--- what the server's latest state of it lists.
local function with_run(action, args, callback)
  local candidates = runs.accepting(action)
  local wanted = args[1]
  if wanted then
    for _, r in ipairs(runs.list()) do
      if r.runId == wanted or r.runId:sub(1, #wanted) == wanted then
        table.remove(args, 1)
        return callback(r)
      end
    end
    -- A run this Neovim has not seen (an earlier session): the server knows
    -- it. For reject, words that name no run are the reason.
    if action ~= "reject" then
      table.remove(args, 1)
      return callback({ runId = wanted, status = "unknown", steps = {}, actions = {} })
    end
  end
  local here = vim.b.agentls_run and runs.by_id[vim.b.agentls_run]
  if here and runs.allows(here, action) then
    return callback(here)
  end
  if #candidates == 0 then
    return notify(("no run to %s"):format(action), vim.log.levels.WARN)
  elseif #candidates == 1 then
    return callback(candidates[1])
  end
  vim.ui.select(candidates, {
    prompt = ("Run to %s"):format(action),
    kind = "agentls.run",
    format_item = function(r)
      return ("%s  %s  %s"):format(r.workflow or "?", r.status, r.runId)
    end,
  }, function(choice)
    if choice then
      callback(choice)
    end
  end)
end

local function client_for_run(r)
  return (r.client_id and vim.lsp.get_client_by_id(r.client_id)) or client_or_warn(0)
end

--- The subcommands that send agent.<action> for a run.
local CONTROL = { "cancel", "retry", "resume", "skip", "approve", "reject" }

--- cancel / retry / resume / skip / approve / reject
local function control(action)
  return function(_, args)
    with_run(action, args, function(r)
      local client = client_for_run(r)
      if not client then
        return
      end
      local command, argument = "agent." .. action, { runId = r.runId }
      if action == "reject" and #args > 0 then
        argument.reason = table.concat(args, " ")
      end
      lsp.execute(client, command, argument, function(err)
        if err then
          on_error(command, err)
        end
      end)
    end)
  end
end

--- :Agent output [run]: the run's output buffer, filled from the server when
--- this Neovim did not see the run stream.
local function show_output(_, args)
  local id = args[1] or vim.b.agentls_run or (runs.list()[1] or {}).runId
  if not id then
    return notify("no run yet", vim.log.levels.WARN)
  end
  for _, r in ipairs(runs.list()) do
    if r.runId:sub(1, #id) == id then
      id = r.runId
      break
    end
  end
  if output.has_text(id) then
    return output.show(id, true)
  end
  local r = runs.by_id[id] or {}
  local client = client_for_run(r)
  if not client then
    return
  end
  lsp.execute(client, "agent.output", { runId = id }, function(err, result)
    if err then
      return on_error("agent.output", err)
    end
    local text = type(result) == "string" and result or (type(result) == "table" and result.text) or ""
    output.fill(id, text)
    output.show(id, true)
  end)
end

--- The run a worktree command (diff, apply, discard) names: an id (or a
--- prefix of a run this Neovim knows) given as argument, else the run of the
--- output or diff buffer you are in, else nil: the server takes the newest run.
local function worktree_run(args)
  local wanted = args[1] or vim.b.agentls_run
  if not wanted then
    return nil
  end
  for _, r in ipairs(runs.list()) do
    if r.runId == wanted or r.runId:sub(1, #wanted) == wanted then
      return r.runId
    end
  end
  return wanted
end

--- Sends agent.<action> {runId?, uri?} for a worktree run; `callback` gets the result.
local function worktree_command(action, args, callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_or_warn(bufnr)
  if not client then
    return
  end
  local command = "agent." .. action
  local argument = { runId = worktree_run(args), uri = document_uri(bufnr) }
  -- No buffer: the client sends every buffer's pending changes first, so
  -- apply checks the text as it is now (the patch may touch any of them).
  lsp.execute(client, command, argument, function(err, result)
    if err then
      -- apply's refusal names the file the user changed where the run did.
      return on_error(command, err)
    end
    callback(result)
  end, nil)
end

--- :Agent diff [run]: the run's patch in a scratch buffer (filetype diff),
--- `agentls://diff/RUN`, in a split. :Agent apply and :Agent discard typed
--- there apply to that run.
local function show_diff(_, args)
  worktree_command("diff", args, function(result)
    if type(result) ~= "table" or type(result.patch) ~= "string" then
      return notify("agent.diff gave no patch", vim.log.levels.ERROR)
    end
    if result.patch == "" then
      return notify(("run %s changed nothing"):format(result.runId))
    end
    local name = "agentls://diff/" .. result.runId
    local buf = vim.fn.bufnr(name)
    if buf == -1 then
      buf = vim.api.nvim_create_buf(false, true)
      pcall(vim.api.nvim_buf_set_name, buf, name)
    end
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split((result.patch:gsub("\n$", "")), "\n", { plain = true }))
    vim.bo[buf].modifiable = false
    vim.bo[buf].modified = false
    vim.bo[buf].filetype = "diff"
    vim.b[buf].agentls_run = result.runId
    local wins = vim.fn.win_findbuf(buf)
    if #wins > 0 then
      vim.api.nvim_set_current_win(wins[1])
    else
      vim.cmd("botright split")
      vim.api.nvim_win_set_buf(0, buf)
    end
  end)
end

--- :Agent apply [run]: the completed worktree run's patch goes to the
--- workspace (open buffers through workspace/applyEdit), all or nothing.
local function apply(_, args)
  worktree_command("apply", args, function(result)
    local files = type(result) == "table" and type(result.files) == "table" and result.files or {}
    notify(("applying run %s: %s"):format(result and result.runId or "?", table.concat(files, ", ")))
  end)
end

--- :Agent discard [run]: asks, then drops the run's changes and its worktree.
local function discard(_, args)
  local id = worktree_run(args)
  local which = id and ("run " .. id) or "the newest run"
  vim.ui.select({ "Discard", "Keep" }, {
    prompt = ("Discard the changes of %s? Its worktree and branch are removed."):format(which),
    kind = "agentls.discard",
  }, function(choice)
    if choice ~= "Discard" then
      return
    end
    worktree_command("discard", { id }, function(result)
      local state = type(result) == "table" and type(result.isolation) == "table" and result.isolation.state or "?"
      notify(("run %s: worktree %s"):format(result and result.runId or "?", state))
    end)
  end)
end

--- :Agent runs: the run list, refreshed from the server's history.
local function show_runs()
  local client = client_or_warn(0)
  if not client then
    return
  end
  lsp.execute(client, "agent.runs", { uri = document_uri(0), limit = 50 }, function(err, result)
    if err then
      return on_error("agent.runs", err)
    end
    runs.merge_history(result, client.id)
    require("agentls.list").open()
  end, 0)
end

M.subcommands = {
  run = run,
  output = show_output,
  runs = show_runs,
  diff = show_diff,
  apply = apply,
  discard = discard,
}
for _, action in ipairs(CONTROL) do
  M.subcommands[action] = control(action)
end

function M.dispatch(opts)
  local args = vim.deepcopy(opts.fargs)
  local name = table.remove(args, 1) or "runs"
  local sub = M.subcommands[name]
  if not sub then
    return notify(
      ("unknown subcommand %q; use one of: %s"):format(name, table.concat(vim.fn.sort(vim.tbl_keys(M.subcommands)), ", ")),
      vim.log.levels.ERROR
    )
  end
  sub(opts, args)
end

local workflow_cache = { at = 0, names = {} }

local function workflow_names()
  if vim.uv.now() - workflow_cache.at < 5000 then
    return workflow_cache.names
  end
  local client = lsp.client(0)
  if not client then
    return {}
  end
  local result = lsp.execute_sync(client, "agent.workflows", { uri = document_uri(0) }, 500, 0)
  local names = {}
  for _, w in ipairs(type(result) == "table" and result or {}) do
    table.insert(names, w.name)
  end
  workflow_cache = { at = vim.uv.now(), names = names }
  return names
end

function M.complete(arglead, cmdline, _)
  -- Words after the command name (and an optional range), the last one being typed.
  local words = vim.split((cmdline:gsub("^.-Agent!?%s*", "")), "%s+", { trimempty = false })
  local candidates
  if #words <= 1 then
    candidates = vim.fn.sort(vim.tbl_keys(M.subcommands))
  elseif #words == 2 and words[1] == "run" then
    candidates = workflow_names()
  elseif #words == 2 and vim.tbl_contains(CONTROL, words[1]) then
    candidates = vim.tbl_map(function(r)
      return r.runId
    end, runs.accepting(words[1]))
  elseif #words == 2 and (words[1] == "output" or words[1] == "diff" or words[1] == "apply" or words[1] == "discard") then
    candidates = vim.tbl_map(function(r)
      return r.runId
    end, runs.list())
  else
    candidates = {}
  end
  return vim.tbl_filter(function(c)
    return vim.startswith(c, arglead)
  end, candidates)
end

return M
