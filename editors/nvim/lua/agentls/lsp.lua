--- The language client: starts agentls for file buffers (vim.lsp.config and
--- vim.lsp.enable on Neovim 0.11+, vim.lsp.start from a FileType autocmd on
--- 0.10), opts in to run events, and sends agent.* commands. M.config is
--- also what lsp/agentls.lua returns, so vim.lsp.enable("agentls") without
--- setup() starts the same client.
--- Knows nothing of buffers that show output; it hands notifications to
--- runs.lua and output.lua.
local M = {}

M.name = "agentls"

local has_011 = vim.fn.has("nvim-0.11") == 1

--- Client methods are called with ':' on 0.11 and with '.' on 0.10.
---@param client vim.lsp.Client
local function client_request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function handlers()
  return {
    ["agent/output"] = function(_, params, ctx)
      require("agentls.runs").on_output(params, ctx.client_id)
    end,
    ["agent/state"] = function(_, params, ctx)
      require("agentls.runs").on_state(params, ctx.client_id)
    end,
  }
end

--- The client configuration for `opts`: what setup() passes to
--- vim.lsp.config (0.11) or vim.lsp.start (0.10), and what lsp/agentls.lua
--- returns for a bare vim.lsp.enable("agentls").
---@param opts agentls.Options
---@return vim.lsp.Config
function M.config(opts)
  -- 0.11 merges a config's capabilities into Neovim's defaults itself; a
  -- full table here would also override those of vim.lsp.config("*").
  local capabilities = opts.capabilities
  if not has_011 then
    capabilities = vim.tbl_deep_extend("force", vim.lsp.protocol.make_client_capabilities(), opts.capabilities or {})
  end
  return {
    name = M.name,
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    capabilities = capabilities,
    -- runEvents turns on agent/output and agent/state for this client.
    init_options = { agentls = vim.tbl_extend("force", vim.deepcopy(opts.settings), { runEvents = true }) },
    -- Sent again as workspace/didChangeConfiguration; only when there is
    -- something to send (an empty Lua table would go out as a JSON array).
    settings = next(opts.settings) and { agentls = opts.settings } or nil,
    handlers = handlers(),
    on_attach = opts.on_attach,
    -- On :quit, wait for agentls to answer `shutdown` (it cancels the runs
    -- and kills their processes, and records them cancelled) and exit,
    -- rather than exit at once: Neovim's default (false) races its own
    -- exit against the server's pipe, and can die of SIGPIPE.
    flags = { exit_timeout = 2000 },
  }
end

local augroup = vim.api.nvim_create_augroup("agentls.lsp", { clear = true })

--- 0.10: start (or reuse) a client for each file buffer of a wanted filetype.
---@param opts agentls.Options
local function start_010(opts)
  local config = M.config(opts)
  local function attach(bufnr)
    if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
      return
    end
    if opts.filetypes and not vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) then
      return
    end
    local c = vim.deepcopy(config)
    c.root_dir = vim.fs.root(bufnr, opts.root_markers)
    c.root_markers = nil
    c.filetypes = nil
    vim.lsp.start(c, { bufnr = bufnr })
  end
  vim.api.nvim_clear_autocmds({ group = augroup })
  vim.api.nvim_create_autocmd("FileType", {
    group = augroup,
    callback = function(args)
      attach(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= "" then
      attach(bufnr)
    end
  end
end

--- Configures and enables the client. Warns once when the binary is missing,
--- because Neovim would otherwise only write that to its LSP log.
---@param opts agentls.Options
function M.setup(opts)
  if vim.fn.executable(opts.cmd[1]) == 0 then
    vim.notify(
      ("agentls: %q was not found or is not executable. Install it (`cargo install --path server` in the agentls repository) or set `cmd` in setup(); see :help agentls-install and :checkhealth agentls."):format(
        opts.cmd[1]
      ),
      vim.log.levels.WARN
    )
  end
  if has_011 then
    vim.lsp.config(M.name, M.config(opts))
    vim.lsp.enable(M.name)
  else
    start_010(opts)
  end
end

--- The agentls client for `bufnr`, else any running agentls client.
---@param bufnr integer?
---@return vim.lsp.Client?
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local attached = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  return vim.lsp.get_clients({ name = M.name })[1]
end

--- Sends `workspace/executeCommand` with one object argument.
---@param client vim.lsp.Client
---@param command string
---@param argument table
---@param callback fun(err: lsp.ResponseError?, result: any)
---@param bufnr integer?
function M.execute(client, command, argument, callback, bufnr)
  -- An empty Lua table would be sent as a JSON array; the server wants an object.
  if next(argument) == nil then
    argument = vim.empty_dict()
  end
  local ok = client_request(client, "workspace/executeCommand", {
    command = command,
    arguments = { argument },
  }, function(err, result)
    callback(err, result)
  end, bufnr)
  if not ok then
    callback({ code = -32803, message = "the agentls server is not running" }, nil)
  end
end

--- Like execute, but waits for the answer (for command-line completion).
---@return any result, string? error
function M.execute_sync(client, command, argument, timeout_ms, bufnr)
  local done, result, message = false, nil, nil
  M.execute(client, command, argument, function(err, res)
    done, result, message = true, res, err and err.message or nil
  end, bufnr)
  vim.wait(timeout_ms, function()
    return done
  end, 10)
  if not done then
    return nil, "timed out"
  end
  return result, message
end

return M
