//! Check digits and format rules. Every function takes ASCII digits (`b'0'..=b'9'`) already
//! folded from full-width forms.

/// SPEC: ISO/IEC 7812-1 Annex B (the Luhn formula).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
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

/// SPEC: 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令 第八条
/// (the Individual Number check digit): weights 2..7,2..6 from the right over the first 11
/// digits, check = 11 - (sum mod 11), or 0 when the remainder is 0 or 1.
pub(crate) fn my_number(digits: &[u8]) -> bool {
    if digits.len() != 12 {
        return false;
    }
    let mut sum = 0u32;
    for n in 1..=11 {
        let p = u32::from(digits[11 - n] - b'0');
        let q = if n <= 6 { n + 1 } else { n - 5 } as u32;
        sum += p * q;
    }
    let r = sum % 11;
    let check = if r <= 1 { 0 } else { 11 - r };
    u32::from(digits[11] - b'0') == check
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
