//! The shared vocabulary of kamei.
//!
//! Every crate speaks of personal data in the same words: a [`PiiType`] is a kind of
//! personal data a detector can find in text (`PHONE`, `MY_NUMBER`, …); a [`Category`] is what
//! a catalog says a column holds (a `PiiType`, or one of the column-only categories such as
//! `SUBJECT_KEY`); a [`Level`] is the form in which a principal may read it; a
//! [`Jurisdiction`] is the country whose rules protect the data subject.
//!
//! The names are the upper-case names of DESIGN.md and appear unchanged in every output
//! (labels, detector JSON, catalog files, the policy matrix, audit records).
//!
//! A [`TablePlan`] is what one principal may read of one table: the compiled decision per
//! column and jurisdiction, and whose data each column is (a row can hold several people, each
//! a [`Subject`] with the source of their jurisdiction), handed from kamei-policy (which
//! decides) to kamei-protect (which applies) and to the audit log (which records). A
//! [`Transform`] is a catalog's choice of how a level is applied to a column where the default
//! does not suit.
//!
//! [`digit`] is the one table of decimal digits in every script, shared by the detector and
//! the masks so that a digit one reads the other hides.
//!
//! The logic here is the logic that keeps those types true: a plan's fields are private and its
//! constructors keep the fail-closed fallback for unknown jurisdictions and every column's
//! owner. This crate does not detect, decide or transform anything, and depends on nothing of
//! kamei.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

mod category;
pub mod check_digit;
mod column_type;
pub mod digit;
mod jurisdiction;
mod level;
mod number;
mod pii_type;
mod plan;
mod transform;

pub use category::Category;
pub use column_type::ColumnType;
pub use jurisdiction::Jurisdiction;
pub use level::Level;
pub use number::thousands;
pub use pii_type::PiiType;
pub use plan::{ColumnPlan, Decision, JurisdictionSource, PlanError, Subject, TablePlan};
pub use transform::{RedactionProfile, Transform, TransformChoice};

/// A name that is not one of the vocabulary's names, with the list of names that are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}`; expected one of: {expected}")]
pub struct UnknownName {
    what: &'static str,
    name: String,
    expected: String,
}

impl UnknownName {
    fn new(what: &'static str, name: &str, expected: impl IntoIterator<Item = &'static str>) -> Self {
        Self {
            what,
            // Escaped: the name comes from a file, and a message stays on one line.
            name: name.escape_debug().to_string(),
            expected: expected.into_iter().collect::<Vec<_>>().join(", "),
        }
    }
}

/// Implements `as_str`, `FromStr`, `Display` and string serde for a field-less enum whose
/// variants each have one canonical name.
macro_rules! named_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The canonical name, as it appears in every output.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err($crate::UnknownName::new($what, s, [$($name),+])),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use named_enum;
