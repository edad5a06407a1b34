-- The agentls client config for Neovim 0.11's vim.lsp.enable(), in the
-- lsp/<name>.lua convention nvim-lspconfig follows: with this plugin on
-- 'runtimepath', `vim.lsp.enable("agentls")` alone starts the server, no
-- setup() call. The table is the one setup() builds (command, root markers,
-- run events, the handlers of agent/output and agent/state), from the
-- plugin's options: its defaults, or what setup() was given. Change fields
-- with vim.lsp.config("agentls", { ... }) as for any server.
return require("agentls.lsp").config(require("agentls.config").options)
