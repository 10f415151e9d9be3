use crate::{Category, Level, PiiType, named_enum};

/// A transform a catalog may choose for a category or a column at the `masked` or
/// `pseudonymized` level, in place of the default of DESIGN.md ("Levels mean, per category").
///
/// `raw` always passes the value and `denied` never does; neither can be overridden. Every
/// transform is checked against the level ([`Transform::allowed_at`]: nothing that shows part
/// of a value at `pseudonymized`) and the category ([`Transform::fits`]: never more of a value
/// than the category's default shows at `masked`) when the catalog loads, and again when a
/// projection is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transform {
    /// Every cell null.
    Suppress,
    /// The value as stored: only for categories that do not identify alone.
    Keep,
    /// Keyed HMAC-SHA256 pseudonym, stable within the recipient domain.
    Pseudonym,
    /// Reversible deterministic token (AES-SIV) under the domain's token key.
    Token,
    /// Reversible format-preserving token of the digits (FF1), other characters kept.
    TokenDigits,
    /// Every digit but the last four replaced by `*`.
    MaskDigits,
    /// First letter of the local part and the domain of an e-mail address.
    MaskEmail,
    /// The first character only.
    FirstChar,
    /// The prefecture (or last comma-separated part) of an address.
    Prefecture,
    /// The first three digits of a postal code.
    PostalPrefix,
    /// A date generalised to its year.
    Year,
    /// A date generalised to year and month.
    YearMonth,
    /// A number generalised to a band of ten.
    AgeBand,
    /// Personal data in free text replaced by its type tag.
    RedactTags,
    /// Personal data in free text replaced by typed pseudonyms.
    RedactPseudonyms,
}

named_enum!(Transform, "transform", {
    Suppress => "suppress",
    Keep => "keep",
    Pseudonym => "pseudonym",
    Token => "token",
    TokenDigits => "token-digits",
    MaskDigits => "mask-digits",
    MaskEmail => "mask-email",
    FirstChar => "first-char",
    Prefecture => "prefecture",
    PostalPrefix => "postal-prefix",
    Year => "year",
    YearMonth => "year-month",
    AgeBand => "age-band",
    RedactTags => "redact-tags",
    RedactPseudonyms => "redact-pseudonyms",
});

impl Transform {
    /// Whether the transform reveals no more than `level` allows. At `pseudonymized` only
    /// keyed codes, suppression and text redaction (which keeps no personal data) are allowed;
    /// `masked` adds partial reveals and generalizations.
    pub const fn allowed_at(self, level: Level) -> bool {
        match level {
            Level::Raw | Level::Denied => false,
            Level::Pseudonymized => match self {
                Transform::Suppress
                | Transform::Pseudonym
                | Transform::Token
                | Transform::TokenDigits
                | Transform::RedactTags
                | Transform::RedactPseudonyms => true,
                Transform::Keep
                | Transform::MaskDigits
                | Transform::MaskEmail
                | Transform::FirstChar
                | Transform::Prefecture
                | Transform::PostalPrefix
                | Transform::Year
                | Transform::YearMonth
                | Transform::AgeBand => false,
            },
            Level::Masked => true,
        }
    }

    /// Whether the transform makes sense for what the column holds and shows no more of it
    /// than the category's default (the data type is checked when a projection is compiled).
    /// `keep` fits only categories that do not identify a person alone; reversible tokens
    /// (`token`, `token-digits`) can be read back only through kamei, never by the reader.
    pub const fn fits(self, category: Category) -> bool {
        match self {
            Transform::Suppress | Transform::Pseudonym => true,
            Transform::Token => !matches!(category, Category::FreeText),
            Transform::Keep => matches!(category, Category::QuasiIdentifier | Category::NonPersonal),
            // Digits and separators only: letters and other characters would pass through.
            Transform::TokenDigits => matches!(
                category,
                Category::Pii(
                    PiiType::Phone
                        | PiiType::CreditCard
                        | PiiType::MyNumber
                        | PiiType::CorporateNumber
                        | PiiType::PostalCode
                        | PiiType::BankAccount
                )
            ),
            // The last four digits are the default partial reveal of these only; a My Number
            // or a passport shows nothing when masked.
            Transform::MaskDigits => matches!(
                category,
                Category::Pii(PiiType::Phone | PiiType::CreditCard | PiiType::BankAccount)
            ),
            Transform::MaskEmail => matches!(category, Category::Pii(PiiType::Email)),
            Transform::FirstChar => matches!(category, Category::Pii(PiiType::Person) | Category::AccountId),
            Transform::Prefecture => matches!(category, Category::Pii(PiiType::Address)),
            Transform::PostalPrefix => matches!(category, Category::Pii(PiiType::PostalCode)),
            Transform::Year => matches!(
                category,
                Category::Pii(PiiType::DateOfBirth) | Category::QuasiIdentifier
            ),
            // A birth date's default reveal is its year; the month is more.
            Transform::YearMonth | Transform::AgeBand => matches!(category, Category::QuasiIdentifier),
            Transform::RedactTags | Transform::RedactPseudonyms => matches!(category, Category::FreeText),
        }
    }
}

/// How eagerly free text is searched for personal data before it is redacted (issue 17).
///
/// `balanced` redacts what the detector reports at its balanced precision (`kamei detect`);
/// `recall` also redacts anything that could be a structured value in context — long digit
/// runs in any script, the words around an `@` or its spelled-out forms, card-shaped runs
/// that fail Luhn, handles after a cue word — at a measured cost in over-redaction. It
/// applies where free text is redacted (`redact-tags`, `redact-pseudonyms`); a reader who does
/// not read the text raw gets `recall` unless the catalog chooses otherwise, because a
/// redactor's miss is a value across a border (fail closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RedactionProfile {
    Balanced,
    Recall,
}

named_enum!(RedactionProfile, "redaction profile", {
    Balanced => "balanced",
    Recall => "recall",
});

impl RedactionProfile {
    /// The profile of a FREE_TEXT column whose catalog chooses none.
    pub const DEFAULT: RedactionProfile = RedactionProfile::Recall;
}

/// The transforms a catalog chose for one column, where it overrides the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransformChoice {
    pub masked: Option<Transform>,
    pub pseudonymized: Option<Transform>,
    /// How free text is searched before it is redacted, at both levels (FREE_TEXT only).
    pub profile: Option<RedactionProfile>,
}

impl TransformChoice {
    /// The chosen transform at `level`, if the catalog chose one.
    pub const fn at(&self, level: Level) -> Option<Transform> {
        match level {
            Level::Masked => self.masked,
            Level::Pseudonymized => self.pseudonymized,
            Level::Raw | Level::Denied => None,
        }
    }

    /// The redaction profile that applies: the chosen one, else [`RedactionProfile::DEFAULT`].
    pub const fn redaction_profile(&self) -> RedactionProfile {
        match self.profile {
            Some(p) => p,
            None => RedactionProfile::DEFAULT,
        }
    }

    /// `self` where it chose, else `fallback` (a column's choice over its category's).
    pub const fn or(self, fallback: TransformChoice) -> TransformChoice {
        TransformChoice {
            profile: match self.profile {
                Some(p) => Some(p),
                None => fallback.profile,
            },
            masked: match self.masked {
                Some(t) => Some(t),
                None => fallback.masked,
            },
            pseudonymized: match self.pseudonymized {
                Some(t) => Some(t),
                None => fallback.pseudonymized,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_that_reveals_part_of_a_value_is_allowed_at_pseudonymized() {
        for t in Transform::ALL {
            assert!(t.allowed_at(Level::Masked), "{t}");
            assert!(!t.allowed_at(Level::Raw) && !t.allowed_at(Level::Denied), "{t}");
        }
        for t in [
            Transform::Keep,
            Transform::MaskDigits,
            Transform::FirstChar,
            Transform::Year,
        ] {
            assert!(!t.allowed_at(Level::Pseudonymized), "{t}");
        }
        assert!(Transform::TokenDigits.allowed_at(Level::Pseudonymized));
    }

    #[test]
    fn keep_never_fits_identifying_categories() {
        for c in Category::all() {
            let expected = matches!(c, Category::QuasiIdentifier | Category::NonPersonal);
            assert_eq!(Transform::Keep.fits(c), expected, "{c}");
        }
        assert!(Transform::TokenDigits.fits(Category::Pii(PiiType::Phone)));
        assert!(!Transform::TokenDigits.fits(Category::Pii(PiiType::Email)));
        assert!(!Transform::RedactTags.fits(Category::Pii(PiiType::Person)));
        // Never more than the default masked reveal.
        assert!(!Transform::MaskDigits.fits(Category::Pii(PiiType::MyNumber)));
        assert!(!Transform::YearMonth.fits(Category::Pii(PiiType::DateOfBirth)));
        assert!(!Transform::TokenDigits.fits(Category::Pii(PiiType::Iban)));
    }

    #[test]
    fn a_columns_choice_wins_over_its_categorys() {
        let column = TransformChoice {
            masked: None,
            pseudonymized: Some(Transform::TokenDigits),
            profile: None,
        };
        let category = TransformChoice {
            masked: Some(Transform::Suppress),
            pseudonymized: Some(Transform::Pseudonym),
            profile: Some(RedactionProfile::Balanced),
        };
        let both = column.or(category);
        assert_eq!(both.redaction_profile(), RedactionProfile::Balanced);
        assert_eq!(
            column.redaction_profile(),
            RedactionProfile::Recall,
            "recall unless chosen"
        );
        assert_eq!(
            TransformChoice {
                profile: Some(RedactionProfile::Recall),
                ..category
            }
            .or(category)
            .profile,
            Some(RedactionProfile::Recall)
        );
        assert_eq!(both.at(Level::Masked), Some(Transform::Suppress));
        assert_eq!(both.at(Level::Pseudonymized), Some(Transform::TokenDigits));
        assert_eq!(both.at(Level::Raw), None);
        assert_eq!("token-digits".parse::<Transform>(), Ok(Transform::TokenDigits));
        assert!("tokenize".parse::<Transform>().is_err());
    }
}
