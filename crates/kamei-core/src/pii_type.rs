use crate::named_enum;

/// A kind of personal data that can be recognised in a value or in free text.
///
/// The generator labels its data with these, the detector reports them, and a catalog uses
/// them as column categories. Matched exhaustively everywhere: a new type must be handled by
/// every recognizer, transform and report before the workspace compiles again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiType {
    Email,
    Phone,
    CreditCard,
    /// Japan's Individual Number (マイナンバー): 12 digits, the last a check digit.
    MyNumber,
    /// Japan's Corporate Number (法人番号): 13 digits, the first a check digit.
    CorporateNumber,
    PostalCode,
    Address,
    Person,
    DateOfBirth,
    IpAddress,
    Iban,
    Passport,
    DriverLicense,
    BankAccount,
}

named_enum!(PiiType, "personal-data type", {
    Email => "EMAIL",
    Phone => "PHONE",
    CreditCard => "CREDIT_CARD",
    MyNumber => "MY_NUMBER",
    CorporateNumber => "CORPORATE_NUMBER",
    PostalCode => "POSTAL_CODE",
    Address => "ADDRESS",
    Person => "PERSON",
    DateOfBirth => "DATE_OF_BIRTH",
    IpAddress => "IP_ADDRESS",
    Iban => "IBAN",
    Passport => "PASSPORT",
    DriverLicense => "DRIVER_LICENSE",
    BankAccount => "BANK_ACCOUNT",
});

impl PiiType {
    /// Whether the law treats this type as specially sensitive on its own: Japan's My Number
    /// Act restricts any use of an Individual Number, and card numbers fall under PCI DSS.
    pub const fn is_regulated_identifier(self) -> bool {
        match self {
            PiiType::MyNumber | PiiType::CreditCard | PiiType::Passport | PiiType::DriverLicense => true,
            PiiType::Email
            | PiiType::Phone
            | PiiType::CorporateNumber
            | PiiType::PostalCode
            | PiiType::Address
            | PiiType::Person
            | PiiType::DateOfBirth
            | PiiType::IpAddress
            | PiiType::Iban
            | PiiType::BankAccount => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in PiiType::ALL {
            assert_eq!(t.as_str().parse::<PiiType>(), Ok(*t));
            assert_eq!(serde_json::to_string(t).unwrap(), format!("\"{}\"", t.as_str()));
        }
        assert_eq!(PiiType::ALL.len(), 14);
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = "PHONE_NUMBER".parse::<PiiType>().unwrap_err().to_string();
        assert!(err.starts_with("unknown personal-data type `PHONE_NUMBER`; expected one of: EMAIL, PHONE"));
    }
}
