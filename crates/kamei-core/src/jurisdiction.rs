use std::fmt;
use std::str::FromStr;

/// The country whose rules protect a data subject: an ISO 3166-1 alpha-2 code.
///
/// Stored as two upper-case ASCII letters; parsing rejects anything else, so a jurisdiction
/// read from data or configuration can be printed and compared without further checks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jurisdiction([u8; 2]);

impl Jurisdiction {
    pub const JP: Jurisdiction = Jurisdiction(*b"JP");
    pub const TH: Jurisdiction = Jurisdiction(*b"TH");
    pub const TW: Jurisdiction = Jurisdiction(*b"TW");
    pub const ID: Jurisdiction = Jurisdiction(*b"ID");

    /// The code, e.g. `"JP"`.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters (checked in `from_str`), so this is UTF-8.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

/// A string that is not an ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid jurisdiction `{0}`; expected a two-letter upper-case ISO 3166-1 code such as JP")]
pub struct InvalidJurisdiction(String);

impl FromStr for Jurisdiction {
    type Err = InvalidJurisdiction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Jurisdiction([*a, *b])),
            _ => Err(InvalidJurisdiction(s.chars().take(16).collect())),
        }
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Jurisdiction({})", self.as_str())
    }
}

impl serde::Serialize for Jurisdiction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Jurisdiction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_alpha2_codes_only() {
        assert_eq!("JP".parse(), Ok(Jurisdiction::JP));
        for bad in ["jp", "JPN", "J", "", "J1", "ＪＰ"] {
            assert!(bad.parse::<Jurisdiction>().is_err(), "{bad:?} must be rejected");
        }
    }
}
