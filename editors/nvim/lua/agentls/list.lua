--- The :Agent runs buffer: one line per run (newest first) with its steps
--- below, and keys to act on the run under the cursor. Re-drawn on every
--- `User AgentlsRunState` while it is loaded.
local runs = require("agentls.runs")

local M = {}

local buf

local ICONS = {
  queued = "…",
  running = "▶",
  waiting = "?",
  failed = "✗",
  interrupted = "‖",
  cancelled = "⊘",
  completed = "✓",
  pending = "·",
  skipped = "↷",
}

local line_runs = {} -- line number -> run id

local function render()
  if not (buf and vim.api.nvim_buf_is_valid(buf)) then
    return
  end
  local lines = {
    "agentls runs   <CR> output  r retry/resume  s skip  a approve  x reject  c cancel  R refresh  q close",
    "",
  }
  line_runs = {}
  for _, r in ipairs(runs.list()) do
    local progress = runs.progress(r)
    table.insert(
      lines,
      ("%s %-24s %-12s %-6s %s"):format(ICONS[r.status] or " ", r.workflow or "?", r.status, progress, r.runId)
    )
    line_runs[#lines] = r.runId
    for _, step in ipairs(r.steps) do
      local detail = step.error and ("  " .. tostring(step.error)) or ""
      table.insert(lines, ("    %s %-20s %s%s"):format(ICONS[step.status] or " ", step.title or step.id, step.status, detail))
      line_runs[#lines] = r.runId
    end
  end
  if #lines == 2 then
    table.insert(lines, "no runs yet: :Agent run")
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
end

local function run_under_cursor()
  return line_runs[vim.api.nvim_win_get_cursor(0)[1]]
end

local function act(sub)
  return function()
    local id = run_under_cursor()
    if id then
      vim.cmd(("Agent %s %s"):format(sub, id))
    end
  end
end

--- `r`: retries the run under the cursor, or resumes it when the server
--- offers resume and not retry (a run a crash or restart interrupted).
local function retry_or_resume()
  local id = run_under_cursor()
  local r = id and runs.by_id[id]
  if r then
    local sub = (runs.allows(r, "resume") and not runs.allows(r, "retry")) and "resume" or "retry"
    vim.cmd(("Agent %s %s"):format(sub, id))
  end
end

function M.open()
  if not (buf and vim.api.nvim_buf_is_valid(buf)) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.bo[buf].bufhidden = "hide"
    vim.bo[buf].swapfile = false
    vim.bo[buf].filetype = "agentls_runs"
    pcall(vim.api.nvim_buf_set_name, buf, "agentls://runs")
    local function map(lhs, fn, desc)
      vim.keymap.set("n", lhs, fn, { buffer = buf, nowait = true, desc = desc })
    end
    map("<CR>", act("output"), "Show the output of the run under the cursor")
    map("r", retry_or_resume, "Retry (or resume) the run under the cursor")
    map("s", act("skip"), "Skip the failed step of the run under the cursor")
    map("a", act("approve"), "Approve the run under the cursor")
    map("x", act("reject"), "Reject the run under the cursor")
    map("c", act("cancel"), "Cancel the run under the cursor")
    map("R", "<cmd>Agent runs<cr>", "Refresh the run list")
    map("q", "<cmd>close<cr>", "Close the run list")
    vim.api.nvim_create_autocmd("User", {
      pattern = "AgentlsRunState",
      callback = function()
        if not vim.api.nvim_buf_is_valid(buf) then
          return true
        end
        render()
      end,
    })
  end
  render()
  local wins = vim.fn.win_findbuf(buf)
  if #wins > 0 then
    vim.api.nvim_set_current_win(wins[1])
  else
    vim.cmd("botright 12split")
    vim.api.nvim_win_set_buf(0, buf)
  end
end

return M
