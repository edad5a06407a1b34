--- One scratch buffer per run holding its live output (agent/output), with a
--- header when the stream moves to another step and a line when the run
--- stops. Windows showing it follow the end while their cursor is on the
--- last line. Never sends anything to the server.
local M = {}

local state = {} -- run id -> { buf, seq, step, open }

local function options()
  return require("agentls.config").options.output
end

local function valid(entry)
  return entry and vim.api.nvim_buf_is_valid(entry.buf)
end

--- The output buffer of `run_id`, created on first use.
---@return integer bufnr
function M.buffer(run_id)
  local entry = state[run_id]
  if valid(entry) then
    return entry.buf
  end
  local buf = vim.api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].modifiable = false
  vim.b[buf].agentls_run = run_id
  pcall(vim.api.nvim_buf_set_name, buf, "agentls://output/" .. run_id)
  vim.bo[buf].filetype = "agentls_output"
  vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = buf, desc = "Close the agentls output window" })
  state[run_id] = { buf = buf, seq = nil, step = nil }
  return buf
end

--- Appends `text` to the buffer, continuing its last (unfinished) line.
local function write(buf, text)
  text = text:gsub("\r\n", "\n"):gsub("\r", "")
  if text == "" then
    return
  end
  local count = vim.api.nvim_buf_line_count(buf)
  local following = {}
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if vim.api.nvim_win_get_cursor(win)[1] >= count then
      table.insert(following, win)
    end
  end
  local last = vim.api.nvim_buf_get_lines(buf, count - 1, count, false)[1] or ""
  local pieces = vim.split(text, "\n", { plain = true })
  pieces[1] = last .. pieces[1]
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, count - 1, count, false, pieces)
  vim.bo[buf].modifiable = false
  if options().follow then
    local new_count = vim.api.nvim_buf_line_count(buf)
    for _, win in ipairs(following) do
      vim.api.nvim_win_set_cursor(win, { new_count, 0 })
    end
  end
end

--- Starts a line of its own (for headers and footers) unless the last line is empty.
local function line_break(buf)
  local count = vim.api.nvim_buf_line_count(buf)
  local last = vim.api.nvim_buf_get_lines(buf, count - 1, count, false)[1] or ""
  return last == "" and "" or "\n"
end

--- agent/output: `seq` grows per run; a repeated or older one is dropped.
function M.append(run_id, step, text, seq)
  local buf = M.buffer(run_id)
  local entry = state[run_id]
  if type(seq) == "number" then
    if entry.seq and seq <= entry.seq then
      return
    end
    entry.seq = seq
  end
  if entry.step ~= step then
    write(buf, line_break(buf) .. ("── %s ──\n"):format(step))
    entry.step = step
  end
  write(buf, text)
  if not entry.shown and options().open then
    entry.shown = true
    M.show(run_id, false)
  end
end

--- Forgets the last sequence number of a run (its stream now comes from another server).
function M.restart_sequence(run_id)
  if state[run_id] then
    state[run_id].seq = nil
  end
end

local FOOTERS = {
  completed = "── completed ──",
  cancelled = "── cancelled ──",
  interrupted = "── interrupted: :Agent resume continues it ──",
  failed = "── failed%s: :Agent retry, :Agent skip ──",
  waiting = "── waiting%s: :Agent approve or :Agent reject ──",
}

--- agent/state: writes a line when the run stops or waits.
function M.on_state(run, before)
  if run.status == before then
    return
  end
  local footer = FOOTERS[run.status]
  local entry = state[run.runId]
  if not footer or not valid(entry) then
    return
  end
  local step = require("agentls.runs").current_step(run)
  local where = step and (" at " .. step.id) or ""
  if run.status == "failed" and run.error then
    where = where .. " (" .. tostring(run.error) .. ")"
  end
  write(entry.buf, line_break(entry.buf) .. footer:format(where) .. "\n")
  entry.step = nil
end

--- Replaces the buffer's text with a run's full output (agent.output), for
--- runs whose live stream this Neovim did not see.
function M.fill(run_id, text)
  local buf = M.buffer(run_id)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split((text:gsub("\r\n", "\n")), "\n", { plain = true }))
  vim.bo[buf].modifiable = false
end

--- Whether the buffer already holds text.
function M.has_text(run_id)
  local entry = state[run_id]
  if not valid(entry) then
    return false
  end
  local lines = vim.api.nvim_buf_get_lines(entry.buf, 0, -1, false)
  return #lines > 1 or (lines[1] or "") ~= ""
end

--- Shows the output buffer: in a window already showing agentls output in
--- this tab, else in a new one as `output.open` says. `focus` moves the cursor there.
function M.show(run_id, focus)
  local buf = M.buffer(run_id)
  state[run_id].shown = true
  local previous = vim.api.nvim_get_current_win()
  local target
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.b[vim.api.nvim_win_get_buf(win)].agentls_run then
      target = win
      break
    end
  end
  if not target then
    local open = options().open or "split"
    local size = options().size
    if open == "vsplit" then
      vim.cmd(("botright vertical %dsplit"):format(size))
    elseif open == "tab" then
      vim.cmd("tabnew")
    else
      vim.cmd(("botright %dsplit"):format(size))
    end
    target = vim.api.nvim_get_current_win()
    vim.wo[target].winfixheight = open == "split"
    vim.wo[target].number = false
    vim.wo[target].relativenumber = false
  end
  vim.api.nvim_win_set_buf(target, buf)
  vim.api.nvim_win_set_cursor(target, { vim.api.nvim_buf_line_count(buf), 0 })
  if focus then
    vim.api.nvim_set_current_win(target)
  elseif vim.api.nvim_win_is_valid(previous) then
    vim.api.nvim_set_current_win(previous)
  end
  return target
end

return M
