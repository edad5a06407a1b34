-- Defines :Agent. Everything else loads on first use; the language server
-- starts only after require("agentls").setup(), or on Neovim 0.11 after
-- vim.lsp.enable("agentls") (whose config is lsp/agentls.lua).
if vim.g.loaded_agentls then
  return
end
vim.g.loaded_agentls = true

vim.api.nvim_create_user_command("Agent", function(opts)
  require("agentls.commands").dispatch(opts)
end, {
  nargs = "*",
  range = true,
  desc = "agentls: run and control agent workflows",
  complete = function(arglead, cmdline, pos)
    return require("agentls.commands").complete(arglead, cmdline, pos)
  end,
})
