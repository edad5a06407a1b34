// Where the selection goes after a workflow's edit replaced it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { replacedSelection } from '../src/selection';

test('a_longer_replacement_stays_selected_whole', () => {
  // "hello" (offsets 6..11) becomes "[HELLO]".
  assert.deepEqual(replacedSelection({ start: 6, end: 11 }, [{ start: 6, end: 11, newLength: 7 }]), {
    start: 6,
    end: 13,
  });
});

test('a_shorter_replacement_stays_selected_whole', () => {
  assert.deepEqual(replacedSelection({ start: 0, end: 10 }, [{ start: 0, end: 10, newLength: 3 }]), {
    start: 0,
    end: 3,
  });
});

test('minimal_edits_inside_the_selection_select_the_whole_new_text', () => {
  // "abc def ghi" -> "abc DEFG ghi": only "def" is sent, the ends are equal.
  assert.deepEqual(replacedSelection({ start: 0, end: 11 }, [{ start: 4, end: 7, newLength: 4 }]), {
    start: 0,
    end: 12,
  });
  // Two edits inside one selection add up.
  assert.deepEqual(
    replacedSelection({ start: 2, end: 20 }, [
      { start: 2, end: 4, newLength: 0 },
      { start: 10, end: 10, newLength: 5 },
    ]),
    { start: 2, end: 23 },
  );
});

test('a_cursor_or_an_edit_outside_the_selection_is_left_to_vscode', () => {
  assert.equal(replacedSelection({ start: 5, end: 5 }, [{ start: 5, end: 5, newLength: 4 }]), undefined);
  assert.equal(replacedSelection({ start: 5, end: 9 }, [{ start: 0, end: 2, newLength: 1 }]), undefined);
  assert.equal(replacedSelection({ start: 5, end: 9 }, [{ start: 7, end: 12, newLength: 1 }]), undefined);
  assert.equal(replacedSelection({ start: 5, end: 9 }, []), undefined);
});
