use std::fmt;
use std::str::FromStr;

use crate::{PiiType, UnknownName};

/// What a catalog says a column holds.
///
/// Either a personal-data type of the vocabulary, or one of the categories that only make
/// sense for a whole column: a key that links a row to a person, a handle others know the
/// person by, free text that may hold any type, a quasi-identifier, or nothing personal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Pii(PiiType),
    /// An internal id that links a row to a person (`user_id`, `sender_id`, …).
    SubjectKey,
    /// A handle others know the person by (`line_id`, `display_name`).
    AccountId,
    /// Text that may contain personal data of any type (`body`).
    FreeText,
    /// Not identifying alone, identifying in combination (`gender`).
    QuasiIdentifier,
    /// Ids of things, times, amounts, jurisdiction columns.
    NonPersonal,
}

impl Category {
    /// The categories that are not a `PiiType`, with their names.
    const COLUMN_ONLY: [(Category, &'static str); 5] = [
        (Category::SubjectKey, "SUBJECT_KEY"),
        (Category::AccountId, "ACCOUNT_ID"),
        (Category::FreeText, "FREE_TEXT"),
        (Category::QuasiIdentifier, "QUASI_IDENTIFIER"),
        (Category::NonPersonal, "NON_PERSONAL"),
    ];

    /// Every category: the personal-data types, then the column-only ones.
    pub fn all() -> impl Iterator<Item = Category> {
        PiiType::ALL
            .iter()
            .map(|t| Category::Pii(*t))
            .chain(Self::COLUMN_ONLY.iter().map(|(c, _)| *c))
    }

    /// The canonical name, as it appears in every output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Pii(t) => t.as_str(),
            Category::SubjectKey => "SUBJECT_KEY",
            Category::AccountId => "ACCOUNT_ID",
            Category::FreeText => "FREE_TEXT",
            Category::QuasiIdentifier => "QUASI_IDENTIFIER",
            Category::NonPersonal => "NON_PERSONAL",
        }
    }

    /// Whether the column holds data about a person at all.
    pub const fn is_personal(self) -> bool {
        match self {
            Category::NonPersonal => false,
            Category::Pii(_)
            | Category::SubjectKey
            | Category::AccountId
            | Category::FreeText
            | Category::QuasiIdentifier => true,
        }
    }
}

impl FromStr for Category {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(t) = s.parse::<PiiType>() {
            return Ok(Category::Pii(t));
        }
        Self::COLUMN_ONLY
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(c, _)| *c)
            .ok_or_else(|| UnknownName::new("category", s, Category::all().map(Category::as_str)))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_round_trips_by_name() {
        let all: Vec<_> = Category::all().collect();
        assert_eq!(all.len(), 19);
        for c in all {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
        }
    }

    #[test]
    fn pii_types_are_categories_under_the_same_name() {
        assert_eq!("EMAIL".parse::<Category>(), Ok(Category::Pii(PiiType::Email)));
        assert!("email".parse::<Category>().is_err());
    }
}
