use crate::named_enum;

/// The form in which a principal reads a column for a data subject.
///
/// Ordered from most to least revealing, so `max` picks the most revealing of several
/// permitted levels. Match it exhaustively: a new level must break every place that applies
/// one, so nothing falls through to a default (fail closed by construction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// No access; reading the column is an error naming the column and the deciding policy.
    Denied,
    /// A keyed, irreversible code, stable within one recipient domain (the principal's org).
    Pseudonymized,
    /// A partial reveal that cannot identify alone (last four digits, prefecture, year, …).
    Masked,
    /// The value as stored.
    Raw,
}

impl Level {
    /// The level's position from least to most revealing (denied 0 … raw 3): the one index
    /// every per-level table (cell counts, kernels) uses.
    pub const fn index(self) -> usize {
        match self {
            Level::Denied => 0,
            Level::Pseudonymized => 1,
            Level::Masked => 2,
            Level::Raw => 3,
        }
    }
}

named_enum!(Level, "level", {
    Denied => "denied",
    Pseudonymized => "pseudonymized",
    Masked => "masked",
    Raw => "raw",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_by_how_much_is_revealed() {
        assert!(Level::Raw > Level::Masked);
        assert!(Level::Masked > Level::Pseudonymized);
        assert!(Level::Pseudonymized > Level::Denied);
        assert_eq!(
            [Level::Pseudonymized, Level::Raw].into_iter().max(),
            Some(Level::Raw)
        );
    }

    /// Stored formats (the subject index) write a level as its index and read it back from
    /// `ALL`: the two orders must agree.
    #[test]
    fn index_is_the_position_in_all() {
        for (i, level) in Level::ALL.iter().enumerate() {
            assert_eq!(level.index(), i);
        }
    }

    #[test]
    fn names_are_lower_case() {
        assert_eq!("masked".parse::<Level>(), Ok(Level::Masked));
        assert!("MASKED".parse::<Level>().is_err());
    }
}
