//! The demo-world generator.
