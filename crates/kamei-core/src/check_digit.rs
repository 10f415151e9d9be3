//! Check digits of the identifiers kamei generates and recognises (card numbers, My Number),
//! in one place for the generator and the detector. Digits are values 0–9, most significant
//! first.

/// The check digit of a My Number (個人番号) from its first eleven digits.
///
/// SPEC: 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令 第八条:
/// check = 11 − (Σ Pn·Qn mod 11), or 0 when the remainder is 0 or 1; Pn is the n-th digit
/// counted from the right of the eleven, Qn = n + 1 for n ≤ 6 and n − 5 for n ≥ 7.
pub fn my_number_check_digit(first_eleven: &[u8; 11]) -> u8 {
    let sum: u32 = first_eleven
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let n = i as u32 + 1;
            let q = if n <= 6 { n + 1 } else { n - 5 };
            u32::from(*d) * q
        })
        .sum();
    let r = sum % 11;
    if r <= 1 { 0 } else { (11 - r) as u8 }
}

/// The Luhn check digit for a number whose other digits are `payload` (most significant first).
///
/// SPEC: ISO/IEC 7812-1 Annex B (Luhn formula).
pub fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether a digit string passes the Luhn check.
pub fn luhn_valid(digits: &[u8]) -> bool {
    match digits.split_last() {
        Some((check, payload)) => luhn_check_digit(payload) == *check,
        None => false,
    }
}

/// Whether a 12-digit string is a My Number with a valid check digit.
pub fn my_number_valid(digits: &[u8]) -> bool {
    match digits {
        [first @ .., check] if first.len() == 11 => {
            let mut eleven = [0u8; 11];
            eleven.copy_from_slice(first);
            my_number_check_digit(&eleven) == *check
        }
        _ => false,
    }
}

/// The digits of an ASCII string, ignoring everything else (spaces, hyphens).
pub fn digits_of(s: &str) -> Vec<u8> {
    s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_numbers() {
        // Published test card numbers (Visa, Mastercard, JCB, Amex test ranges).
        for card in [
            "4111111111111111",
            "5555555555554444",
            "3530111333300000",
            "378282246310005",
        ] {
            assert!(luhn_valid(&digits_of(card)), "{card}");
        }
        assert!(!luhn_valid(&digits_of("4111111111111112")));
    }

    #[test]
    fn my_number_known_number() {
        // 123456789018 is the example widely used in Japanese documentation: check digit 8.
        assert_eq!(my_number_check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]), 8);
        assert!(my_number_valid(&digits_of("1234 5678 9018")));
        assert!(!my_number_valid(&digits_of("123456789017")));
        assert!(!my_number_valid(&digits_of("12345678901")));
    }
}
