--- agentls for Neovim: runs multi-step agent workflows from the agentls
--- language server. See :help agentls.
local M = {}

--- Configures the language client and enables it for file buffers.
--- Calling it again replaces the options.
---@param opts agentls.Options?
function M.setup(opts)
  if vim.fn.has("nvim-0.10") == 0 then
    vim.notify("agentls: Neovim 0.10 or later is required", vim.log.levels.ERROR)
    return
  end
  local options = require("agentls.config").set(opts)
  require("agentls.lsp").setup(options)
end

--- A short text about the run that needs attention, for statuslines
--- ("" when no run is active). Redraw on `User AgentlsRunState`.
function M.statusline()
  return require("agentls.runs").statusline()
end

--- Runs known to this Neovim, newest first.
function M.runs()
  return require("agentls.runs").list()
end

return M
