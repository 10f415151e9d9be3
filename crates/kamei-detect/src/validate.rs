//! Check digits and format rules. Every function takes ASCII digits (`b'0'..=b'9'`) already
//! folded from full-width forms.

/// The Luhn check over ASCII digits (kamei-core holds the formula).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    with_values(digits, kamei_core::check_digit::luhn_valid)
}

/// Runs `check` over the digit values of ASCII digits, without allocating for the short
/// numbers the validators see (longer runs are not identifiers and fail).
fn with_values(digits: &[u8], check: fn(&[u8]) -> bool) -> bool {
    let mut values = [0u8; 32];
    match values.get_mut(..digits.len()) {
        Some(v) => {
            for (out, d) in v.iter_mut().zip(digits) {
                *out = d.wrapping_sub(b'0');
            }
            check(v)
        }
        None => false,
    }
}

fn prefix_num(digits: &[u8], n: usize) -> u32 {
    digits
        .iter()
        .take(n)
        .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
}

/// Whether the number's leading digits and length belong to a card network that issues
/// cards (Visa, Mastercard, Amex, JCB, Diners, Discover, UnionPay), so a random Luhn-valid
/// number of the wrong shape is not taken for a card.
pub(crate) fn card_issuer(digits: &[u8]) -> bool {
    let n = digits.len();
    let p2 = prefix_num(digits, 2);
    let p3 = prefix_num(digits, 3);
    let p4 = prefix_num(digits, 4);
    match digits.first() {
        // Visa stopped issuing 13-digit numbers long ago; a 13-digit run is an EAN/JAN code.
        Some(b'4') => matches!(n, 16 | 19),
        _ if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) => n == 16,
        _ if p2 == 34 || p2 == 37 => n == 15,
        _ if (3528..=3589).contains(&p4) => (16..=19).contains(&n),
        _ if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 => (14..=19).contains(&n),
        _ if p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) => (16..=19).contains(&n),
        _ if p2 == 62 => (16..=19).contains(&n),
        _ => false,
    }
}

/// The My Number check digit over 12 ASCII digits (kamei-core holds the formula).
pub(crate) fn my_number(digits: &[u8]) -> bool {
    with_values(digits, kamei_core::check_digit::my_number_valid)
}

/// SPEC: 法人番号の指定等に関する省令 第二条 (the Corporate Number check digit, the first of
/// 13 digits): check = 9 - (sum of the 12 base digits weighted 1,2,1,2… from the right, mod 9).
pub(crate) fn corporate_number(digits: &[u8]) -> bool {
    if digits.len() != 13 {
        return false;
    }
    let mut sum = 0u32;
    for n in 1..=12 {
        let p = u32::from(digits[13 - n] - b'0');
        sum += p * if n % 2 == 1 { 1 } else { 2 };
    }
    u32::from(digits[0] - b'0') == 9 - sum % 9
}

/// SPEC: ISO 13616-1 (IBAN): rearranged, letters as 10..35, the number mod 97 is 1.
/// `iban` is upper-case ASCII letters and digits without spaces.
pub(crate) fn iban(iban: &[u8]) -> bool {
    if !(15..=34).contains(&iban.len())
        || !iban[..2].iter().all(u8::is_ascii_uppercase)
        || !iban[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let mut rem = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// Whether year-month-day is a real date of the Gregorian calendar in a plausible range for
/// a living person's birth.
pub(crate) fn birth_date(y: u32, m: u32, d: u32) -> bool {
    if !(1900..=2030).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_issuers() {
        for good in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "3530111333300000",
            "6011111111111117",
            "36227206271667",
        ] {
            assert!(luhn(good.as_bytes()) && card_issuer(good.as_bytes()), "{good}");
        }
        assert!(!luhn(b"4111111111111112"));
        // Luhn-valid but no network issues numbers starting with 9.
        assert!(luhn(b"9111111111111110") && !card_issuer(b"9111111111111110"));
        // Visa with 15 digits is not a Visa length.
        assert!(!card_issuer(b"411111111111111"));
    }

    #[test]
    fn my_number_check_digit() {
        // Check digits computed by hand from the formula of the enforcement order.
        assert!(my_number(b"123456789018"));
        assert!(my_number(b"000000000000"));
        assert!(!my_number(b"123456789012"));
        assert!(!my_number(b"12345678901"));
    }

    #[test]
    fn corporate_number_check_digit() {
        // 国税庁 (National Tax Agency) itself: 7000012050002.
        assert!(corporate_number(b"7000012050002"));
        assert!(!corporate_number(b"8000012050002"));
        assert!(!corporate_number(b"700001205000"));
    }

    #[test]
    fn iban_mod_97() {
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(iban(b"DE89370400440532013000"));
        assert!(!iban(b"GB82WEST12345698765433"));
        assert!(!iban(b"gb82WEST12345698765432"));
    }

    #[test]
    fn calendar_dates() {
        assert!(birth_date(2000, 2, 29));
        assert!(!birth_date(1900, 2, 29));
        assert!(!birth_date(1990, 4, 31));
        assert!(!birth_date(1990, 13, 1));
        assert!(!birth_date(1850, 1, 1));
    }
}
