//! `kamei` end-to-end tests for this area.
