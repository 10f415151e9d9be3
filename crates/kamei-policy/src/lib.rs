//! (to be written: see the README's Architecture section)
