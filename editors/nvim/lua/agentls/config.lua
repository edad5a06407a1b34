--- Options of require("agentls").setup(), their defaults and validation.
--- Knows nothing of LSP clients; lsp.lua turns the options into a client config.
local M = {}

---@class agentls.Options
---@field cmd string[] Command that starts the server.
---@field filetypes string[]? Filetypes to attach to; nil attaches to every file.
---@field root_markers string[] Files or folders that mark a workspace root.
---@field settings table Server configuration (docs/configuration.md keys), sent at start and on change.
---@field output agentls.OutputOptions
---@field capabilities table? Extra client capabilities, merged into Neovim's defaults.
---@field on_attach fun(client: vim.lsp.Client, bufnr: integer)?

---@class agentls.OutputOptions
---@field open "split"|"vsplit"|"tab"|false How a run's output buffer is shown when the run starts.
---@field size integer Height (split) or width (vsplit) of the output window.
---@field follow boolean Keep windows showing the output scrolled to the end while it streams.

---@type agentls.Options
M.defaults = {
  cmd = { "agentls", "serve" },
  filetypes = nil,
  root_markers = { ".agentls", ".git" },
  settings = {},
  output = { open = "split", size = 12, follow = true },
  capabilities = nil,
  on_attach = nil,
}

---@type agentls.Options
M.options = vim.deepcopy(M.defaults)

--- Merges user options over the defaults; raises a clear error on a wrong type.
---@param opts table?
---@return agentls.Options
function M.set(opts)
  opts = opts or {}
  -- vim.validate's signature differs between 0.10 and 0.11; check by hand.
  local expected = {
    cmd = "table",
    filetypes = "table",
    root_markers = "table",
    settings = "table",
    output = "table",
    capabilities = "table",
    on_attach = "function",
  }
  for key, value in pairs(opts) do
    local want = expected[key]
    if want == nil then
      error(("agentls: unknown option %q (known: %s)"):format(key, table.concat(vim.fn.sort(vim.tbl_keys(expected)), ", ")))
    elseif type(value) ~= want then
      error(("agentls: option %q must be a %s, not a %s"):format(key, want, type(value)))
    end
  end
  if opts.output then
    local open = opts.output.open
    if open ~= nil and open ~= false and open ~= "split" and open ~= "vsplit" and open ~= "tab" then
      error('agentls: output.open must be "split", "vsplit", "tab" or false, not ' .. vim.inspect(open))
    end
  end
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- Lists replace, they do not merge index by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts[key] ~= nil then
      M.options[key] = opts[key]
    end
  end
  return M.options
end

return M
