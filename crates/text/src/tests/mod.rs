//! Unit tests pin each clamping and edit rule on hand-picked texts; property
//! tests compare [`crate::Document`] with [`crate::reference`] on random
//! edit sequences.

mod edits;
mod positions;
mod props;
