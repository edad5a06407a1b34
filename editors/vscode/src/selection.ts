/**
 * Where the selection goes after a workflow replaced it: the whole new text
 * stays selected, as VS Code's own in-place transforms leave it ("Transform
 * to Uppercase", "Sort Lines", "Join Lines"), so the user sees what changed
 * and can undo, copy or run the next workflow on it. Left to itself, VS Code
 * keeps the old selection's offsets across a `workspace/applyEdit`, so a
 * longer replacement ends up only partly selected.
 *
 * Pure: offsets in, offsets out; edits.ts applies it to editors.
 */

/** A range of a document as offsets, `start <= end`. */
export interface OffsetRange {
  start: number;
  end: number;
}

/** One text edit of a document: the old range and the length of its new text. */
export interface OffsetEdit extends OffsetRange {
  newLength: number;
}

/**
 * The selection that covers the replaced text after `edits` (one document's,
 * non-overlapping) are applied, when they all lie inside `selection`: the
 * server sends the replacement of a selection as minimal edits, which may
 * leave equal text at either end untouched. Undefined when the selection is
 * empty (a cursor: VS Code's own placement is right) or an edit reaches
 * outside it (the edit is not the replacement of this selection).
 */
export function replacedSelection(
  selection: OffsetRange,
  edits: readonly OffsetEdit[],
): OffsetRange | undefined {
  if (selection.start === selection.end || edits.length === 0) {
    return undefined;
  }
  let delta = 0;
  for (const edit of edits) {
    if (edit.start < selection.start || edit.end > selection.end) {
      return undefined;
    }
    delta += edit.newLength - (edit.end - edit.start);
  }
  return { start: selection.start, end: selection.end + delta };
}
