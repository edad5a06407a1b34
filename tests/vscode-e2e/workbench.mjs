// What a user does in the VS Code workbench, as playwright-core calls: the
// command palette, quick picks, the editor, the Runs view, notifications, the
// status bar. Each waits for what the user would wait for (a row, a text);
// none sleeps.

/** Text as a person reads it: Monaco renders spaces as no-break spaces. */
export function plain(text) {
  return text.replace(/\u00a0/g, ' ');
}

/**
 * Waits for the quick input to be open and focused (with `title` when given,
 * and its text starting with `prefix`), types `text` into it and accepts the
 * focused row once its text contains `expect`. Typing, not setting the text
 * at once: VS Code filters as keys arrive. Keys typed before the quick input
 * has focus would land in the editor, so focus is awaited first.
 */
export async function accept(page, text, { expect = text, title, prefix = '' } = {}) {
  const widget = page.locator('.quick-input-widget');
  if (title) {
    await widget.locator('.quick-input-title').filter({ hasText: title }).waitFor();
  }
  await page.waitForFunction((prefix) => {
    const input = document.activeElement;
    return (
      input instanceof HTMLInputElement &&
      input.closest('.quick-input-widget') !== null &&
      input.value.startsWith(prefix)
    );
  }, prefix);
  await page.keyboard.type(text, { delay: 15 });
  await widget.locator('.monaco-list-row.focused').filter({ hasText: expect }).waitFor();
  await page.keyboard.press('Enter');
}

/** Runs a command from the command palette (F1) by its title. */
export async function palette(page, title) {
  await page.keyboard.press('F1');
  await accept(page, title, { prefix: '>' });
}

/** The rows an open quick pick lists, as text. */
export async function quickPickRows(page, firstExpected) {
  const rows = page.locator('.quick-input-widget .monaco-list-row');
  await rows.filter({ hasText: firstExpected }).first().waitFor();
  return (await rows.allInnerTexts()).map(plain);
}

/** Opens a workspace file through Quick Open (Ctrl+P). */
export async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  await accept(page, name);
  await page.locator(`.tabs-container .tab.active[aria-label*="${name}"]`).waitFor();
  await page.locator('.editor-group-container.active .monaco-editor textarea').first().focus();
}

/** The active editor's visible text. */
export async function editorText(page) {
  const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  return plain(await lines.innerText());
}

/** Waits until the active editor shows `text`. */
export async function waitForEditorText(page, text) {
  await page
    .locator('.editor-group-container.active .monaco-editor .view-lines')
    .first()
    .filter({ hasText: text })
    .waitFor();
}

/** Selects line `line` (1-based) from its first to its last character, with the keyboard. */
export async function selectLine(page, line) {
  await page.keyboard.press('Control+G');
  await accept(page, String(line), { prefix: ':' });
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
}

/** The status bar's "Ln X, Col Y (N selected)" item, as text. */
export function selectionStatus(page) {
  return page.locator('[id="status.editor.selection"]');
}

/** The extension's status bar item (`<publisher>.<name>.<item id>`). */
export function agentStatus(page) {
  return page.locator('[id="agentls.agentls.agentls.status"]');
}

/** The rows of the Runs view (in the Agent side bar). */
export function runRows(page) {
  return page.locator('.part.sidebar .monaco-list-row');
}

/** The Runs view row of the run of `workflow` whose text matches `status`. */
export function runRow(page, workflow, status) {
  return runRows(page)
    .filter({ hasText: workflow })
    .filter({ hasText: status })
    .first();
}

/** Clicks an inline action (its title, e.g. "Retry Step") of a Runs view row. */
export async function rowAction(row, title) {
  await row.hover();
  await row.locator(`a.action-label[aria-label="${title}"]`).click();
}

/** A notification toast whose text contains `text`. */
export function notification(page, text) {
  return page.locator('.notifications-toasts .notification-toast').filter({ hasText: text }).first();
}

/** The Output panel's text (the channel it shows). */
export async function waitForOutput(page, text) {
  await page.locator('.part.panel .monaco-editor .view-lines').filter({ hasText: text }).first().waitFor();
  return plain(await page.locator('.part.panel .monaco-editor .view-lines').first().innerText());
}
