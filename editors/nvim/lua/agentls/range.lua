--- Turns what the user selected into an LSP range in the client's position
--- encoding: a characterwise visual selection exactly, a linewise or
--- blockwise one (or a plain :{range}) as whole lines.
local M = {}

---@param bufnr integer
---@param row integer 0-based
---@param col integer byte column, 0-based
---@param encoding string
local function position(bufnr, row, col, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  col = math.min(col, #line)
  local character = col
  if col > 0 and encoding ~= "utf-8" then
    character = vim.lsp.util.character_offset(bufnr, row, col, encoding)
  end
  return { line = row, character = character }
end

--- The range for `:{line1},{line2}Agent ...`.
---@param bufnr integer
---@param opts { range: integer, line1: integer, line2: integer }
---@param encoding string the client's offset_encoding
---@return lsp.Range?
function M.from_command(bufnr, opts, encoding)
  if opts.range == 0 then
    return nil
  end
  local vstart = vim.api.nvim_buf_get_mark(bufnr, "<")
  local vend = vim.api.nvim_buf_get_mark(bufnr, ">")
  local from_visual = opts.range == 2 and vstart[1] == opts.line1 and vend[1] == opts.line2
  if from_visual and vim.fn.visualmode() == "v" then
    local line = vim.api.nvim_buf_get_lines(bufnr, vend[1] - 1, vend[1], false)[1] or ""
    -- '> marks the first byte of the last selected character; the range ends after it.
    local last_char = vim.fn.strcharpart(line:sub(vend[2] + 1), 0, 1)
    local end_col = vend[2] + #last_char
    if vim.o.selection == "exclusive" then
      end_col = vend[2]
    end
    return {
      start = position(bufnr, vstart[1] - 1, vstart[2], encoding),
      ["end"] = position(bufnr, vend[1] - 1, end_col, encoding),
    }
  end
  local count = vim.api.nvim_buf_line_count(bufnr)
  local finish
  if opts.line2 < count then
    finish = { line = opts.line2, character = 0 }
  else
    local last = vim.api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1] or ""
    finish = position(bufnr, count - 1, #last, encoding)
  end
  return { start = { line = opts.line1 - 1, character = 0 }, ["end"] = finish }
end

--- The buffer's diagnostics on the lines of `range`, as LSP diagnostics
--- (the server's original one when it came from a language server).
---@param bufnr integer
---@param range lsp.Range
---@param encoding string
---@return lsp.Diagnostic[]
function M.diagnostics(bufnr, range, encoding)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local last = d.end_lnum or d.lnum
    if d.lnum <= range["end"].line and last >= range.start.line then
      local lsp_diagnostic = vim.tbl_get(d, "user_data", "lsp")
      if lsp_diagnostic then
        table.insert(out, lsp_diagnostic)
      else
        table.insert(out, {
          range = {
            start = position(bufnr, d.lnum, d.col, encoding),
            ["end"] = position(bufnr, last, d.end_col or d.col, encoding),
          },
          severity = d.severity,
          message = d.message,
          source = d.source,
          code = d.code,
        })
      end
    end
  end
  return out
end

return M
