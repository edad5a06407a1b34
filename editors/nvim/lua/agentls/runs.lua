--- Runs this Neovim knows about, kept current by agent/state notifications
--- and agent.runs answers; which run a command applies to; the statusline.
--- Fires `User AgentlsRunState` (data: the run) after every change, for
--- statuslines and user autocmds.
local M = {}

---@class agentls.Step
---@field id string
---@field title string?
---@field status string
---@field attempt integer?
---@field exitCode integer?
---@field error string?
---@field actions string[] what may name this step now (the server's `actions`)

---@class agentls.Run
---@field runId string
---@field workflow string?
---@field title string?
---@field status string
---@field error string?
---@field steps agentls.Step[]
---@field actions string[] what the run accepts now (the server's `actions`)
---@field client_id integer?

---@type table<string, agentls.Run>
M.by_id = {}
---@type string[] run ids, newest first
M.order = {}

local FINAL = { completed = true, cancelled = true }

local function nonnull(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

--- The `actions` of a run or step from the wire: the names of the agent.*
--- commands it accepts now, computed by the server (docs/protocol.md, "Run
--- state"). Absent or malformed means none: the plugin keeps no rules of its own.
local function actions(raw)
  local out = {}
  if type(raw) == "table" then
    for _, action in ipairs(raw) do
      if type(action) == "string" then
        table.insert(out, action)
      end
    end
  end
  return out
end

local function put(run, newest)
  local known = M.by_id[run.runId]
  if not known then
    if newest then
      table.insert(M.order, 1, run.runId)
    else
      table.insert(M.order, run.runId)
    end
  else
    run.workflow = run.workflow or known.workflow
    run.client_id = run.client_id or known.client_id
    run.live = run.live or known.live
  end
  M.by_id[run.runId] = run
end

--- Normalises a run from the wire (vim.NIL for JSON null).
local function parse(raw, client_id)
  if type(raw) ~= "table" or type(raw.runId) ~= "string" or type(raw.status) ~= "string" then
    return nil
  end
  local steps = {}
  for _, s in ipairs(type(raw.steps) == "table" and raw.steps or {}) do
    if type(s) == "table" and type(s.id) == "string" then
      table.insert(steps, {
        id = s.id,
        title = nonnull(s.title),
        status = s.status,
        attempt = nonnull(s.attempt),
        exitCode = nonnull(s.exitCode),
        error = nonnull(s.error),
        actions = actions(s.actions),
      })
    end
  end
  return {
    runId = raw.runId,
    workflow = nonnull(raw.workflow),
    title = nonnull(raw.title),
    status = raw.status,
    error = nonnull(raw.error),
    actions = actions(raw.actions),
    steps = steps,
    stepsDone = nonnull(raw.stepsDone),
    stepsTotal = nonnull(raw.stepsTotal),
    client_id = client_id,
  }
end

local function changed(run)
  vim.api.nvim_exec_autocmds("User", { pattern = "AgentlsRunState", modeline = false, data = run })
end

--- agent/state: the latest truth about one run.
function M.on_state(params, client_id)
  local run = parse(params, client_id)
  if not run then
    return
  end
  local before = M.by_id[run.runId]
  run.live = true
  put(run, true)
  require("agentls.output").on_state(run, before and before.status or nil)
  changed(run)
end

--- agent/output: live text of one step.
function M.on_output(params, client_id)
  if type(params) ~= "table" or type(params.runId) ~= "string" or type(params.text) ~= "string" then
    return
  end
  local known = M.by_id[params.runId]
  if not known then
    put({ runId = params.runId, status = "running", steps = {}, actions = {}, client_id = client_id, live = true }, true)
  elseif known.client_id ~= client_id then
    -- A new server (restarted, resuming the run) numbers its output from 0 again.
    known.client_id = client_id
    require("agentls.output").restart_sequence(params.runId)
  end
  require("agentls.output").append(params.runId, params.step, params.text, params.seq)
end

--- agent.runs history; never overrides what a notification already said.
function M.merge_history(list, client_id)
  if type(list) == "table" and type(list.runs) == "table" then
    list = list.runs
  end
  for _, raw in ipairs(type(list) == "table" and list or {}) do
    local run = parse(raw, client_id)
    local known = run and M.by_id[run.runId]
    if run and not (known and known.live) then
      put(run, false)
    end
  end
end

--- Records a run this Neovim just started, before its first state arrives.
function M.started(run_id, workflow, client_id)
  if not M.by_id[run_id] then
    -- No actions until the server's first state says which.
    put({ runId = run_id, workflow = workflow, status = "queued", steps = {}, actions = {}, client_id = client_id }, true)
  end
end

---@return agentls.Run[] newest first
function M.list()
  local out = {}
  for _, id in ipairs(M.order) do
    table.insert(out, M.by_id[id])
  end
  return out
end

--- Whether the server's latest word on `run` (or a step) lists `action`.
---@param run agentls.Run|agentls.Step
---@param action string
function M.allows(run, action)
  return vim.tbl_contains(run.actions or {}, action)
end

---@return agentls.Run[] runs that accept `action`, newest first
function M.accepting(action)
  return vim.tbl_filter(function(run)
    return M.allows(run, action)
  end, M.list())
end

--- The step a run is at: the first failed, waiting or running one.
---@return agentls.Step?
function M.current_step(run)
  for _, want in ipairs({ "failed", "waiting", "running" }) do
    for _, step in ipairs(run.steps) do
      if step.status == want then
        return step
      end
    end
  end
end

function M.is_final(run)
  return FINAL[run.status] == true
end

--- "done/total" steps, or "" when unknown.
function M.progress(run)
  if #run.steps > 0 then
    local done = 0
    for _, s in ipairs(run.steps) do
      if s.status == "completed" or s.status == "skipped" then
        done = done + 1
      end
    end
    return ("%d/%d"):format(done, #run.steps)
  elseif run.stepsTotal then
    return ("%d/%d"):format(run.stepsDone or 0, run.stepsTotal)
  end
  return ""
end

--- A short statusline text for the most urgent run, or "" when none is active.
function M.statusline()
  local order = { waiting = 1, failed = 2, running = 3, queued = 4 }
  local best
  for _, run in ipairs(M.list()) do
    local rank = order[run.status]
    if run.live and rank and (not best or rank < order[best.status]) then
      best = run
    end
  end
  if not best then
    return ""
  end
  local name = best.workflow or best.runId:sub(1, 8)
  if best.status == "waiting" then
    local step = M.current_step(best)
    return ("agent: %s waits for approval%s"):format(name, step and (" (" .. step.id .. ")") or "")
  end
  local progress = M.progress(best)
  return ("agent: %s %s%s"):format(name, best.status, progress ~= "" and (" " .. progress) or "")
end

return M
