--- :checkhealth agentls — the binary and its version, the state directory,
--- which provider keys are set (never their values), and the client.
local M = {}

local health = vim.health

local KEYS = { "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY" }

local function state_dir()
  if vim.env.AGENTLS_STATE_DIR and vim.env.AGENTLS_STATE_DIR ~= "" then
    return vim.env.AGENTLS_STATE_DIR, "AGENTLS_STATE_DIR"
  end
  if vim.env.XDG_STATE_HOME and vim.env.XDG_STATE_HOME ~= "" then
    return vim.fs.joinpath(vim.env.XDG_STATE_HOME, "agentls"), "XDG_STATE_HOME"
  end
  return vim.fs.joinpath(vim.env.HOME or "~", ".local", "state", "agentls"), "default"
end

local function writable(dir)
  if vim.fn.isdirectory(dir) == 1 then
    return vim.fn.filewritable(dir) == 2
  end
  -- Not created yet: the server creates it where the nearest existing parent is writable.
  local parent = vim.fs.dirname(dir)
  while parent and vim.fn.isdirectory(parent) == 0 and parent ~= vim.fs.dirname(parent) do
    parent = vim.fs.dirname(parent)
  end
  return parent ~= nil and vim.fn.filewritable(parent) == 2
end

--- The command that starts the server: on 0.11 the resolved vim.lsp.config
--- (lsp/agentls.lua, setup() and the user's own vim.lsp.config calls), else
--- the plugin's options.
---@return string[]
local function server_cmd()
  if vim.fn.has("nvim-0.11") == 1 then
    local resolved = vim.lsp.config["agentls"]
    if resolved and type(resolved.cmd) == "table" then
      return resolved.cmd
    end
  end
  return require("agentls.config").options.cmd
end

function M.check()
  health.start("agentls: Neovim")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok(("Neovim %s (%s)"):format(tostring(vim.version()), vim.fn.has("nvim-0.11") == 1 and "vim.lsp.config/enable" or "vim.lsp.start"))
  else
    health.error("Neovim 0.10 or later is required")
  end
  if vim.g.loaded_agentls then
    health.ok(":Agent is defined")
  else
    health.warn("plugin/agentls.lua was not loaded: is editors/nvim on 'runtimepath' or 'packpath'?")
  end

  health.start("agentls: binary")
  local cmd = server_cmd()
  local exe = vim.fn.exepath(cmd[1])
  if exe == "" then
    health.error(("%q not found or not executable"):format(cmd[1]), {
      "Install it: `cargo install --locked --path server` in the agentls repository",
      "or give its path: require('agentls').setup({ cmd = { '/path/to/agentls', 'serve' } })",
      "(or, without setup(): vim.lsp.config('agentls', { cmd = { '/path/to/agentls', 'serve' } }))",
    })
  else
    local out = vim.fn.system({ exe, "--version" })
    if vim.v.shell_error == 0 then
      health.ok(("%s: %s"):format(exe, vim.trim(out)))
    else
      health.error(("%s --version failed: %s"):format(exe, vim.trim(out)))
    end
  end

  health.start("agentls: state")
  local dir, source = state_dir()
  if writable(dir) then
    health.ok(("state directory %s (from %s), writable"):format(dir, source))
  else
    health.error(("state directory %s (from %s) is not writable"):format(dir, source), {
      "Set AGENTLS_STATE_DIR to a writable directory",
    })
  end

  health.start("agentls: provider keys")
  local any = false
  for _, name in ipairs(KEYS) do
    local value = vim.env[name]
    if value and value ~= "" then
      any = true
      health.ok(name .. " is set")
    else
      health.info(name .. " is not set")
    end
  end
  if not any then
    health.warn("no provider key is set: prompt steps need a key, a local server, a command provider or a replay cassette", {
      "See docs/providers.md",
    })
  end

  health.start("agentls: client")
  local clients = vim.lsp.get_clients({ name = "agentls" })
  if #clients == 0 then
    health.info("no agentls client is running (it starts when you open a file after setup() or vim.lsp.enable('agentls'))")
  end
  for _, client in ipairs(clients) do
    local commands = vim.tbl_get(client.server_capabilities or {}, "executeCommandProvider", "commands") or {}
    health.ok(("client %d: root %s, %d commands, encoding %s"):format(
      client.id,
      client.root_dir or "(none)",
      #commands,
      client.offset_encoding
    ))
  end
end

return M
