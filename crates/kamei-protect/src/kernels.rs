//! The transforms, as kernels over whole Arrow arrays.
//!
//! A [`Kernel`] is chosen once per column and level when a projection is compiled; applying it
//! matches on the kernel once per array and then runs one monomorphic loop over the values.
//! Every kernel is null-safe: a null stays null. No kernel's error quotes a value.

use std::sync::Arc;

use aes_siv::KeyInit as _;
use aes_siv::siv::Aes256Siv;
use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int64Array, StringArray, StringBuilder, new_null_array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use base64::Engine as _;
use fpe::ff1::{FF1, FlexibleNumeralString};
use kamei_core::{PiiType, RedactionProfile};
use kamei_detect::{Detector, Entity, Profile};

use crate::error::ProtectError;
use crate::keyring::DomainKeys;
use crate::masks;
use crate::prf::KeyedPrefix;
use crate::subject_code::SubjectKeyCode;

/// How a value is normalised before it is pseudonymised, so that the same phone number written
/// `090-1234-5678` and `09012345678` gets the same pseudonym.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Normalize {
    /// The bytes as stored.
    Exact,
    /// Only the digits, of any script, as ASCII (card, My Number, bank account).
    Digits,
    /// The national significant number: the digits without a leading `+` country code or
    /// trunk `0`, so `090-1234-5678`, `+81 90 1234 5678` and `０９０…` join (E.164 without its
    /// country code: numbers of two countries with equal national digits share a pseudonym).
    Phone,
    /// NFKC, the domain lower-cased (e-mail: `ＴＡＲＯ＠Example.JP` is `TARO@example.jp`).
    Email,
}

/// How free text is redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextStyle {
    /// `<PHONE>`: the masked level.
    Tags,
    /// `tel_…`: the pseudonymized level, the same pseudonym the column of that type gets.
    Pseudonyms,
}

/// One transform. Chosen per column and level at compile time, never per value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// The value as stored.
    Raw,
    /// Suppression: every cell null.
    Null,
    /// Keyed pseudonym of text: `prefix` + 16 base32 characters of HMAC-SHA256(domain key,
    /// family ‖ 0 ‖ normalised value) truncated to 10 bytes.
    PseudonymText {
        family: &'static str,
        prefix: &'static str,
        normalize: Normalize,
    },
    /// Keyed pseudonym of a 64-bit integer id, kept an integer (63 bits of the same HMAC) so
    /// joins on ids still work inside one domain.
    PseudonymInt { family: &'static str },
    /// An integer subject key's code (`subject_code.rs`): FF1 over 62 bits, which kamei can
    /// invert to find a row by its code; keys outside `[0, 2^62)` are suppressed.
    SubjectKeyCode,
    /// `****` and at most the last `keep_last` digits (never more than half), nothing else.
    MaskDigits { keep_last: usize },
    /// `****` and at most the last `keep_last` letters and digits (never more than half).
    MaskAlnum { keep_last: usize },
    /// First letter of the local part, `***@`, and the domain only if a public provider's.
    MaskEmail,
    /// The region (prefecture, province, city) from a reference list, else `***`.
    Prefecture,
    /// At most the first three digits of a postal code, fewer than half of them.
    PostalPrefix,
    /// The value as stored, unless the detector finds structured personal data in it (a phone
    /// number typed into a gender column), or with `names` a person's name: then null, and
    /// counted.
    KeepChecked { names: bool },
    /// A jurisdiction column's value only when it is an ISO 3166-1 alpha-2 code (`JP`);
    /// anything else (a name or a number typed into it) is null, and counted.
    JurisdictionCode,
    /// The first character, then `＊＊`.
    FirstChar,
    /// A date generalised to its year (`1987`).
    Year,
    /// A date generalised to year and month (`1987-03`).
    YearMonth,
    /// An integer generalised to a ten-wide band (`30-39`).
    AgeBand,
    /// Personal data in free text replaced, found by kamei-detect at the catalog's profile
    /// (recall unless the catalog chose balanced).
    RedactText {
        style: TextStyle,
        profile: RedactionProfile,
    },
    /// Reversible deterministic token: `tok.KEYID.` + base64url(AES-SIV(value)).
    TokenSiv,
    /// Reversible format-preserving token of a digit string (FF1, radix 10); other characters
    /// kept in place. Values with fewer than 6 digits are suppressed (FF1's domain minimum).
    TokenFf1,
}

impl Kernel {
    /// The data type this kernel produces from `input` (already cast to what it accepts).
    pub(crate) fn output_type(&self, input: &DataType) -> DataType {
        match self {
            Kernel::Raw | Kernel::Null | Kernel::KeepChecked { .. } | Kernel::JurisdictionCode => {
                input.clone()
            }
            Kernel::PseudonymInt { .. } | Kernel::SubjectKeyCode => DataType::Int64,
            Kernel::PseudonymText { .. }
            | Kernel::MaskDigits { .. }
            | Kernel::MaskAlnum { .. }
            | Kernel::MaskEmail
            | Kernel::Prefecture
            | Kernel::PostalPrefix
            | Kernel::FirstChar
            | Kernel::Year
            | Kernel::YearMonth
            | Kernel::AgeBand
            | Kernel::RedactText { .. }
            | Kernel::TokenSiv
            | Kernel::TokenFf1 => DataType::Utf8,
        }
    }

    /// The data type the kernel reads; the projection casts the column to it first.
    pub(crate) fn input_type(&self, data: &DataType) -> DataType {
        match self {
            Kernel::Raw | Kernel::Null => data.clone(),
            // Checked as text, put back into the column's type by the projection.
            Kernel::KeepChecked { .. } | Kernel::JurisdictionCode => DataType::Utf8,
            Kernel::PseudonymInt { .. } | Kernel::SubjectKeyCode => DataType::Int64,
            Kernel::Year | Kernel::YearMonth => DataType::Date32,
            Kernel::AgeBand => DataType::Int64,
            Kernel::PseudonymText { .. }
            | Kernel::MaskDigits { .. }
            | Kernel::MaskAlnum { .. }
            | Kernel::MaskEmail
            | Kernel::Prefecture
            | Kernel::PostalPrefix
            | Kernel::FirstChar
            | Kernel::RedactText { .. }
            | Kernel::TokenSiv
            | Kernel::TokenFf1 => DataType::Utf8,
        }
    }

    /// A short name for the processing record (`hmac-sha256-pseudonym`, `mask-last4`, …).
    pub(crate) fn name(&self) -> String {
        match self {
            Kernel::Raw => "none".into(),
            Kernel::Null => "suppress".into(),
            Kernel::PseudonymText { prefix, .. } => format!("hmac-sha256-pseudonym ({prefix}…)"),
            Kernel::PseudonymInt { .. } => "hmac-sha256-pseudonym (63-bit integer)".into(),
            Kernel::SubjectKeyCode => {
                "ff1-aes256 subject-key code (62 bits, from 2^62; invertible by kamei only)".into()
            }
            Kernel::MaskDigits { keep_last } => format!("mask-digits (at most the last {keep_last} kept)"),
            Kernel::MaskAlnum { keep_last } => {
                format!("mask-alphanumerics (at most the last {keep_last} kept)")
            }
            Kernel::MaskEmail => "mask-email (first letter; the domain of public providers only)".into(),
            Kernel::Prefecture => "generalize-address (listed region)".into(),
            Kernel::PostalPrefix => {
                "generalize-postal-code (at most three leading digits, under half)".into()
            }
            Kernel::KeepChecked { names: false } => {
                "none (suppressed where structured personal data is detected)".into()
            }
            Kernel::JurisdictionCode => "none (ISO 3166-1 alpha-2 codes only)".into(),
            Kernel::KeepChecked { names: true } => {
                "none (suppressed where structured personal data or a name is detected)".into()
            }
            Kernel::FirstChar => "mask (first character kept)".into(),
            Kernel::Year => "generalize-date (year)".into(),
            Kernel::YearMonth => "generalize-date (year-month)".into(),
            Kernel::AgeBand => "generalize-number (band of ten)".into(),
            Kernel::RedactText { style, profile } => {
                let style = match style {
                    TextStyle::Tags => "type tags",
                    TextStyle::Pseudonyms => "typed pseudonyms",
                };
                format!("redact-text ({style}, {profile} profile)")
            }
            Kernel::TokenSiv => "token (AES-SIV)".into(),
            Kernel::TokenFf1 => "token (FF1, format-preserving)".into(),
        }
    }

    /// Whether the output depends on a key (the processing record names the key id).
    pub(crate) fn key_purpose(&self) -> Option<crate::KeyPurpose> {
        match self {
            Kernel::PseudonymText { .. } | Kernel::PseudonymInt { .. } | Kernel::SubjectKeyCode => {
                Some(crate::KeyPurpose::Pseudonym)
            }
            Kernel::RedactText {
                style: TextStyle::Pseudonyms,
                ..
            } => Some(crate::KeyPurpose::Pseudonym),
            Kernel::TokenSiv | Kernel::TokenFf1 => Some(crate::KeyPurpose::Token),
            Kernel::Raw
            | Kernel::Null
            | Kernel::KeepChecked { .. }
            | Kernel::JurisdictionCode
            | Kernel::MaskDigits { .. }
            | Kernel::MaskAlnum { .. }
            | Kernel::MaskEmail
            | Kernel::Prefecture
            | Kernel::PostalPrefix
            | Kernel::FirstChar
            | Kernel::Year
            | Kernel::YearMonth
            | Kernel::AgeBand
            | Kernel::RedactText {
                style: TextStyle::Tags,
                ..
            } => None,
        }
    }

    /// Whether the kernel runs the detector.
    pub(crate) fn needs_detector(&self) -> bool {
        matches!(self, Kernel::RedactText { .. } | Kernel::KeepChecked { .. })
    }

    /// Applies the kernel to a whole array already of `self.input_type(..)`.
    pub(crate) fn apply(&self, array: &ArrayRef, ctx: &KernelContext<'_>) -> Result<ArrayRef, String> {
        let out: ArrayRef =
            match self {
                Kernel::Raw => array.clone(),
                Kernel::Null => new_null_array(array.data_type(), array.len()),
                Kernel::PseudonymText {
                    family,
                    prefix,
                    normalize,
                } => {
                    let pseudonymizer = Pseudonymizer::new(ctx.keys, family);
                    let mut buf = Vec::new();
                    map_text(strings(array)?, |v, out| {
                        let digest = pseudonymizer.digest(normalized(v, *normalize, &mut buf));
                        write_pseudonym(prefix, &digest, out);
                    })
                }
                Kernel::PseudonymInt { family } => {
                    let pseudonymizer = Pseudonymizer::new(ctx.keys, family);
                    let ints = array
                        .as_primitive_opt::<Int64Type>()
                        .ok_or("expected a 64-bit integer array")?;
                    let out: Int64Array = ints.unary(|v| pseudonymizer.int(v));
                    Arc::new(out)
                }
                Kernel::SubjectKeyCode => {
                    let codes = SubjectKeyCode::new(ctx.keys)?;
                    let ints = array
                        .as_primitive_opt::<Int64Type>()
                        .ok_or("expected a 64-bit integer array")?;
                    let out: Int64Array = ints.iter().map(|v| v.and_then(|v| codes.encode(v))).collect();
                    Arc::new(out)
                }
                Kernel::MaskDigits { keep_last } => {
                    map_text(strings(array)?, |v, out| masks::mask_digits(v, *keep_last, out))
                }
                Kernel::MaskAlnum { keep_last } => {
                    map_text(strings(array)?, |v, out| masks::mask_alnum(v, *keep_last, out))
                }
                Kernel::MaskEmail => map_text(strings(array)?, masks::mask_email),
                Kernel::Prefecture => map_text(strings(array)?, masks::region),
                Kernel::PostalPrefix => map_text(strings(array)?, masks::postal_prefix),
                Kernel::JurisdictionCode => {
                    let values = strings(array)?;
                    let codes: StringArray = values
                        .iter()
                        .map(|v| v.filter(|v| v.parse::<kamei_core::Jurisdiction>().is_ok()))
                        .collect();
                    Arc::new(codes)
                }
                Kernel::KeepChecked { names } => {
                    let detector = ctx.detector.ok_or("no detector for the check of kept values")?;
                    let values = strings(array)?;
                    let mut b = StringBuilder::with_capacity(values.len(), values.value_data().len());
                    for v in values.iter() {
                        match v {
                            Some(v) if !holds_personal_data(detector, v, *names) => b.append_value(v),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                Kernel::FirstChar => map_text(strings(array)?, |v, out| {
                    if let Some(c) = v.chars().next() {
                        out.push(c);
                        out.push_str("＊＊");
                    }
                }),
                Kernel::Year => map_date(array, |y, _| format!("{y:04}"))?,
                Kernel::YearMonth => map_date(array, |y, m| format!("{y:04}-{m:02}"))?,
                Kernel::AgeBand => {
                    let ints = array
                        .as_primitive_opt::<Int64Type>()
                        .ok_or("expected a 64-bit integer array")?;
                    let mut b = StringBuilder::with_capacity(ints.len(), ints.len() * 5);
                    for v in ints.iter() {
                        match v {
                            Some(v) => {
                                let lo = v.div_euclid(10) * 10;
                                b.append_value(format!("{lo}-{}", lo + 9));
                            }
                            None => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                Kernel::RedactText { style, profile } => {
                    let pseudonymizers = match style {
                        TextStyle::Tags => None,
                        TextStyle::Pseudonyms => Some(TextPseudonymizers::new(ctx.keys)),
                    };
                    let detector = ctx.detector.ok_or("no detector for free-text redaction")?;
                    let profile = detect_profile(*profile);
                    map_text(strings(array)?, |v, out| {
                        let entities = detector.find_with(v, profile);
                        if entities.is_empty() {
                            out.push_str(v);
                            return;
                        }
                        let text = kamei_detect::redact(v, &entities, |e: &Entity, matched: &str| {
                            match &pseudonymizers {
                                None => format!("<{}>", e.pii_type.as_str()),
                                Some(p) => p.pseudonym(e.pii_type, matched),
                            }
                        });
                        out.push_str(&text);
                    })
                }
                Kernel::TokenSiv => {
                    let mut siv =
                        Aes256Siv::new_from_slice(&ctx.keys.siv[..]).map_err(|_| "bad AES-SIV key length")?;
                    let key_id = ctx.keys.token_key_id();
                    let mut failed = false;
                    let out = map_text(strings(array)?, |v, out| {
                        match siv.encrypt([key_id.as_bytes()], v.as_bytes()) {
                            Ok(ct) => {
                                out.push_str("tok.");
                                out.push_str(key_id);
                                out.push('.');
                                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(ct, out);
                            }
                            Err(_) => failed = true,
                        }
                    });
                    if failed {
                        return Err("AES-SIV encryption failed".into());
                    }
                    out
                }
                Kernel::TokenFf1 => {
                    let ff1 =
                        FF1::<aes::Aes256>::new(ctx.keys.ff1.bytes(), 10).map_err(|_| "bad FF1 radix")?;
                    let tweak = ctx.keys.token_key_id().as_bytes();
                    let values = strings(array)?;
                    let mut b = StringBuilder::with_capacity(values.len(), values.value_data().len());
                    let mut out = String::new();
                    for v in values.iter() {
                        match v.and_then(|v| ff1_digits(&ff1, tweak, v, true, &mut out)) {
                            Some(()) => b.append_value(&out),
                            None => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
            };
        Ok(out)
    }
}

/// The detector's operating point for a catalog's redaction profile.
fn detect_profile(profile: RedactionProfile) -> Profile {
    match profile {
        RedactionProfile::Balanced => Profile::Balanced,
        RedactionProfile::Recall => Profile::Recall,
    }
}

/// What kernels need besides the array.
#[derive(Debug)]
pub(crate) struct KernelContext<'a> {
    pub(crate) keys: &'a DomainKeys,
    pub(crate) detector: Option<&'a Detector>,
}

fn strings(array: &ArrayRef) -> Result<&StringArray, String> {
    array
        .as_string_opt::<i32>()
        .ok_or_else(|| "expected a text array".to_owned())
}

/// Runs `f` on every non-null value, building a new string array; nulls stay null.
fn map_text(values: &StringArray, mut f: impl FnMut(&str, &mut String)) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(values.len(), values.value_data().len() + values.len() * 8);
    let mut out = String::with_capacity(64);
    for v in values.iter() {
        match v {
            Some(v) => {
                out.clear();
                f(v, &mut out);
                b.append_value(&out);
            }
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

fn map_date(array: &ArrayRef, f: impl Fn(i64, u32) -> String) -> Result<ArrayRef, String> {
    let dates: &Date32Array = array.as_primitive_opt().ok_or("expected a date array")?;
    let mut b = StringBuilder::with_capacity(dates.len(), dates.len() * 7);
    for v in dates.iter() {
        match v {
            Some(days) => match arrow::temporal_conversions::date32_to_datetime(days) {
                Some(t) => b.append_value(f(
                    i64::from(chrono::Datelike::year(&t)),
                    chrono::Datelike::month(&t),
                )),
                None => b.append_null(),
            },
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// HMAC-SHA256 keyed with the domain's pseudonym key and the family already absorbed, so each
/// value costs two SHA-256 compressions.
struct Pseudonymizer {
    keyed: KeyedPrefix,
}

impl Pseudonymizer {
    fn new(keys: &DomainKeys, family: &str) -> Pseudonymizer {
        // The family, not the column, is hashed in: users.user_id and messages.sender_id must
        // give the same pseudonym for the same person, a phone and an id with equal digits not.
        let prefix = [family.as_bytes(), &[0]].concat();
        Pseudonymizer {
            keyed: KeyedPrefix::new(keys.pseudonym.bytes(), &prefix),
        }
    }

    fn digest(&self, value: &[u8]) -> [u8; 32] {
        self.keyed.mac(value)
    }

    fn int(&self, value: i64) -> i64 {
        let d = self.digest(&value.to_be_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&d[..8]);
        // 63 bits: non-negative, so it sorts and prints like an id.
        (u64::from_be_bytes(first) >> 1) as i64
    }
}

fn normalized<'a>(value: &'a str, how: Normalize, buf: &'a mut Vec<u8>) -> &'a [u8] {
    match how {
        Normalize::Exact => value.as_bytes(),
        Normalize::Digits | Normalize::Phone => {
            buf.clear();
            buf.extend(value.chars().filter_map(masks::digit_value).map(|d| b'0' + d));
            if buf.is_empty() {
                // No digit at all: pseudonymise the text itself rather than all to one code.
                return value.as_bytes();
            }
            if how == Normalize::Phone {
                let plus = value.trim_start().starts_with(['+', '＋']);
                let double_zero = !plus && buf.starts_with(b"00");
                let international = plus || double_zero;
                let skip = if international {
                    let prefix = if double_zero { 2 } else { 0 };
                    prefix + calling_code_len(buf.get(prefix..).unwrap_or_default())
                } else {
                    usize::from(buf.first() == Some(&b'0'))
                };
                buf.drain(..skip.min(buf.len()));
                // A trunk zero after the country code (`+81 (0)90…`) is not part of the number.
                if international && buf.first() == Some(&b'0') {
                    buf.remove(0);
                }
            }
            buf
        }
        Normalize::Email => {
            buf.clear();
            let folded = masks::nfkc(value);
            let value = folded.trim();
            match value.rsplit_once('@') {
                Some((local, domain)) => {
                    buf.extend_from_slice(local.as_bytes());
                    buf.push(b'@');
                    buf.extend(domain.bytes().map(|b| b.to_ascii_lowercase()));
                }
                None => buf.extend_from_slice(value.as_bytes()),
            }
            buf
        }
    }
}

/// The length of the E.164 country calling code that `digits` start with (the codes are
/// prefix-free: 1 and 7; the two-digit codes of ITU-T E.164 Annex; all others three).
// SPEC: ITU-T E.164 (assigned country codes)
fn calling_code_len(digits: &[u8]) -> usize {
    match digits {
        [b'1' | b'7', ..] => 1,
        [b'2', b'0' | b'7', ..]
        | [b'3', b'0'..=b'4' | b'6' | b'9', ..]
        | [b'4', b'0' | b'1' | b'3'..=b'9', ..]
        | [b'5', b'1'..=b'8', ..]
        | [b'6', b'0'..=b'6', ..]
        | [b'8', b'1' | b'2' | b'4' | b'6', ..]
        | [b'9', b'0'..=b'5' | b'8', ..] => 2,
        _ => 3,
    }
}

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `prefix` then the first 10 bytes of `digest` in lower-case base32 (RFC 4648 alphabet, no
/// padding): 16 characters, 80 bits.
fn write_pseudonym(prefix: &str, digest: &[u8; 32], out: &mut String) {
    out.push_str(prefix);
    for chunk in digest[..10].chunks(5) {
        let mut n: u64 = 0;
        for b in chunk {
            n = (n << 8) | u64::from(*b);
        }
        for i in (0..8).rev() {
            #[expect(
                clippy::indexing_slicing,
                reason = "masked to five bits: 0..32 indexes a 32-byte table"
            )]
            out.push(BASE32[((n >> (i * 5)) & 31) as usize] as char);
        }
    }
}

/// Whether text kept as it is could hold personal data: anything the detector finds (names
/// only with `names`: a merchant may look like a surname), an `@` in any form, or seven digits
/// or more in any script (a number with no context word is still a phone or a My Number).
fn holds_personal_data(detector: &Detector, value: &str, names: bool) -> bool {
    if value.contains(['@', '＠', '﹫'])
        || value.chars().filter(|c| masks::digit_value(*c).is_some()).count() >= 7
    {
        return true;
    }
    detector
        .find(value)
        .iter()
        .any(|e| names || e.pii_type != PiiType::Person)
}

/// FF1 over the ASCII digits of `value`, other characters kept in place.
// SPEC: NIST SP 800-38G FF1 (radix 10).
fn ff1_digits(
    ff1: &FF1<aes::Aes256>,
    tweak: &[u8],
    value: &str,
    encrypt: bool,
    out: &mut String,
) -> Option<()> {
    // Only ASCII digits and the separators of numbers written by hand: anything else (a
    // full-width digit, a letter, a note) would pass through the token unencrypted, so the
    // value is suppressed instead.
    if !value
        .bytes()
        .all(|b| b.is_ascii_digit() || b" -+().".contains(&b))
    {
        return None;
    }
    let digits: Vec<u16> = value
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u16::from(b - b'0'))
        .collect();
    // FF1 needs radix^len >= 1,000,000 (SP 800-38G rev. 1).
    if digits.len() < 6 {
        return None;
    }
    let ns = FlexibleNumeralString::from(digits);
    let done = if encrypt {
        ff1.encrypt(tweak, &ns).ok()?
    } else {
        ff1.decrypt(tweak, &ns).ok()?
    };
    let digits: Vec<u16> = done.into();
    let mut it = digits.into_iter();
    out.clear();
    for b in value.bytes() {
        if b.is_ascii_digit() {
            let d = it.next()?;
            out.push(char::from(b'0' + d as u8));
        } else {
            out.push(b as char);
        }
    }
    Some(())
}

/// The typed pseudonyms free text gets: the same family and prefix as a column of that type.
struct TextPseudonymizers {
    by_type: Vec<(PiiType, Pseudonymizer, &'static str, Normalize)>,
}

impl TextPseudonymizers {
    fn new(keys: &DomainKeys) -> TextPseudonymizers {
        let by_type = PiiType::ALL
            .iter()
            .map(|t| {
                let (family, prefix, normalize) = pii_pseudonym(*t);
                (*t, Pseudonymizer::new(keys, family), prefix, normalize)
            })
            .collect();
        TextPseudonymizers { by_type }
    }

    fn pseudonym(&self, t: PiiType, matched: &str) -> String {
        let mut out = String::new();
        if let Some((_, p, prefix, normalize)) = self.by_type.iter().find(|(tt, ..)| *tt == t) {
            let mut buf = Vec::new();
            let digest = p.digest(normalized(matched, *normalize, &mut buf));
            write_pseudonym(prefix, &digest, &mut out);
        } else {
            out.push('<');
            out.push_str(t.as_str());
            out.push('>');
        }
        out
    }
}

/// The pseudonym family, prefix and normalisation of a personal-data type.
pub(crate) fn pii_pseudonym(t: PiiType) -> (&'static str, &'static str, Normalize) {
    match t {
        PiiType::Email => ("EMAIL", "email_", Normalize::Email),
        PiiType::Phone => ("PHONE", "tel_", Normalize::Phone),
        PiiType::CreditCard => ("CREDIT_CARD", "card_", Normalize::Digits),
        PiiType::MyNumber => ("MY_NUMBER", "mynum_", Normalize::Digits),
        PiiType::CorporateNumber => ("CORPORATE_NUMBER", "corp_", Normalize::Digits),
        PiiType::PostalCode => ("POSTAL_CODE", "zip_", Normalize::Digits),
        PiiType::Address => ("ADDRESS", "addr_", Normalize::Exact),
        PiiType::Person => ("PERSON", "name_", Normalize::Exact),
        PiiType::DateOfBirth => ("DATE_OF_BIRTH", "dob_", Normalize::Exact),
        PiiType::IpAddress => ("IP_ADDRESS", "ip_", Normalize::Exact),
        PiiType::Iban => ("IBAN", "iban_", Normalize::Exact),
        PiiType::Passport => ("PASSPORT", "passport_", Normalize::Exact),
        PiiType::DriverLicense => ("DRIVER_LICENSE", "license_", Normalize::Exact),
        PiiType::BankAccount => ("BANK_ACCOUNT", "bank_", Normalize::Digits),
    }
}

/// Reversible tokens of a text array for one domain: deterministic AES-SIV tokens
/// (`tok.KEYID.…`), or with `format_preserving` FF1 over the digits, other characters kept
/// (values with fewer than six digits become null). Nulls stay null. The catalog's default
/// transforms are irreversible; this is for recipients who must be able to come back
/// (a support case) through the key holder.
pub fn tokenize(
    values: &ArrayRef,
    keys: &DomainKeys,
    format_preserving: bool,
) -> Result<ArrayRef, ProtectError> {
    let kernel = if format_preserving {
        Kernel::TokenFf1
    } else {
        Kernel::TokenSiv
    };
    let input = cast_to(values, &DataType::Utf8).map_err(|message| ProtectError::Internal {
        column: String::new(),
        message,
    })?;
    let ctx = KernelContext { keys, detector: None };
    kernel
        .apply(&input, &ctx)
        .map_err(|message| ProtectError::Internal {
            column: String::new(),
            message,
        })
}

/// Reverses an AES-SIV token (`tok.KEYID.…`) made for this domain with the key id it carries.
pub fn detokenize(token: &str, keys: &DomainKeys) -> Result<String, ProtectError> {
    let bad = || ProtectError::BadToken {
        key_id: keys.token_key_id().to_owned(),
    };
    let rest = token.strip_prefix("tok.").ok_or_else(bad)?;
    let (key_id, b64) = rest.split_once('.').ok_or_else(bad)?;
    if key_id != keys.token_key_id() {
        return Err(bad());
    }
    let ct = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| bad())?;
    let mut siv = Aes256Siv::new_from_slice(&keys.siv[..]).map_err(|_| bad())?;
    let plain = siv.decrypt([key_id.as_bytes()], &ct).map_err(|_| bad())?;
    String::from_utf8(plain).map_err(|_| bad())
}

/// Reverses a format-preserving FF1 token made for this domain.
pub fn detokenize_digits(token: &str, keys: &DomainKeys) -> Result<String, ProtectError> {
    let bad = || ProtectError::BadToken {
        key_id: keys.token_key_id().to_owned(),
    };
    let ff1 = FF1::<aes::Aes256>::new(keys.ff1.bytes(), 10).map_err(|_| bad())?;
    let mut out = String::new();
    ff1_digits(&ff1, keys.token_key_id().as_bytes(), token, false, &mut out).ok_or_else(bad)?;
    Ok(out)
}

/// Casts `array` to `to` if it is not already of that type.
pub(crate) fn cast_to(array: &ArrayRef, to: &DataType) -> Result<ArrayRef, String> {
    if array.data_type() == to {
        return Ok(array.clone());
    }
    // Arrow's cast errors name types, not values, for the casts used here (to text, to dates
    // from dates and timestamps, between integer widths).
    cast(array, to).map_err(|_| format!("cannot convert {} to {to}", array.data_type()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(domain: &str) -> DomainKeys {
        DomainKeys::for_testing(domain)
    }

    fn run(kernel: Kernel, input: ArrayRef, domain: &str) -> ArrayRef {
        let keys = keys(domain);
        let ctx = KernelContext {
            keys: &keys,
            detector: matches!(kernel, Kernel::RedactText { .. }).then(crate::projection::detector),
        };
        kernel.apply(&input, &ctx).unwrap()
    }

    fn texts(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn out_strings(a: &ArrayRef) -> Vec<Option<String>> {
        a.as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect()
    }

    fn phone_kernel() -> Kernel {
        let (family, prefix, normalize) = pii_pseudonym(PiiType::Phone);
        Kernel::PseudonymText {
            family,
            prefix,
            normalize,
        }
    }

    // SPEC: NIST SP 800-38G FF1 samples (FF1samples.pdf), samples 7 and 8 (AES-256, radix 10).
    #[test]
    fn ff1_matches_nist_samples() {
        let key = hex::decode("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94").unwrap();
        let ff1 = FF1::<aes::Aes256>::new(&key, 10).unwrap();
        let mut out = String::new();
        ff1_digits(&ff1, b"", "0123456789", true, &mut out).unwrap();
        assert_eq!(out, "6657667009");
        ff1_digits(
            &ff1,
            &hex::decode("39383736353433323130").unwrap(),
            "0123456789",
            true,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, "1001623463");
        // Sample 1 (AES-128) through the crate directly.
        let key128 = hex::decode("2B7E151628AED2A6ABF7158809CF4F3C").unwrap();
        let ff1 = FF1::<aes::Aes128>::new(&key128, 10).unwrap();
        let ct = ff1
            .encrypt(
                &[],
                &FlexibleNumeralString::from(vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            )
            .unwrap();
        assert_eq!(Vec::<u16>::from(ct), vec![2, 4, 3, 3, 4, 7, 7, 4, 8, 4]);
    }

    #[test]
    fn every_kernel_keeps_nulls_null() {
        let input = texts(&[None, Some("090-1234-5678"), None]);
        for k in [
            Kernel::Null,
            phone_kernel(),
            Kernel::MaskDigits { keep_last: 4 },
            Kernel::MaskAlnum { keep_last: 0 },
            Kernel::MaskEmail,
            Kernel::Prefecture,
            Kernel::PostalPrefix,
            Kernel::FirstChar,
            redact(TextStyle::Tags, RedactionProfile::Recall),
            redact(TextStyle::Pseudonyms, RedactionProfile::Balanced),
            Kernel::TokenSiv,
            Kernel::TokenFf1,
        ] {
            let out = run(k.clone(), input.clone(), "org");
            assert_eq!(out.len(), 3);
            assert!(out.is_null(0) && out.is_null(2), "{k:?}");
            assert_eq!(out.is_null(1), k == Kernel::Null, "{k:?}");
        }
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![None, Some(7), None]));
        for k in [
            Kernel::PseudonymInt {
                family: "SUBJECT_KEY",
            },
            Kernel::AgeBand,
        ] {
            let out = run(k, ints.clone(), "org");
            assert!(out.is_null(0) && !out.is_null(1) && out.is_null(2));
        }
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![None, Some(6_273), None]));
        let out = run(Kernel::Year, dates, "org");
        assert_eq!(out_strings(&out), vec![None, Some("1987".into()), None]);
    }

    #[test]
    fn masks_reveal_what_design_md_says_and_no_more() {
        let cases: [(Kernel, &str, &str); 13] = [
            (Kernel::MaskDigits { keep_last: 4 }, "090-1234-5678", "****5678"),
            (
                Kernel::MaskDigits { keep_last: 4 },
                "4111 1111 1111 1111",
                "****1111",
            ),
            (Kernel::MaskEmail, "taro.yamada@example.jp", "t***@***"),
            (Kernel::Prefecture, "東京都渋谷区道玄坂1-2-3", "東京都"),
            (Kernel::Prefecture, "北海道札幌市中央区", "北海道"),
            (Kernel::Prefecture, "神奈川県横浜市", "神奈川県"),
            (Kernel::Prefecture, "京都府京都市中京区", "京都府"),
            (Kernel::Prefecture, "番地のみ", "***"),
            (Kernel::Prefecture, "新北市板橋區文化路一段127號13樓", "新北市"),
            (
                Kernel::Prefecture,
                "533/26 ถนนนิมมานเหมินท์ ตำบลในเมือง จังหวัดขอนแก่น",
                "ขอนแก่น",
            ),
            (Kernel::Prefecture, "99 Sukhumvit Rd, Bangkok", "กรุงเทพมหานคร"),
            (Kernel::PostalPrefix, "150-0043", "150****"),
            (Kernel::FirstChar, "山田太郎", "山＊＊"),
        ];
        for (k, input, expected) in cases {
            let out = run(k.clone(), texts(&[Some(input)]), "org");
            assert_eq!(out.as_string::<i32>().value(0), expected, "{k:?}");
        }
    }

    #[test]
    fn int_pseudonyms_stay_integers_and_join_across_columns_of_a_domain() {
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 1]));
        let k = Kernel::PseudonymInt {
            family: "SUBJECT_KEY",
        };
        let a = run(k.clone(), ids.clone(), "ldt-shanghai");
        let a = a.as_primitive::<Int64Type>();
        assert_eq!(a.value(0), a.value(2));
        assert_ne!(a.value(0), a.value(1));
        assert!(a.values().iter().all(|v| *v >= 0));
        let b = run(k, ids, "naver-kr");
        assert_ne!(a.value(0), b.as_primitive::<Int64Type>().value(0));
    }

    #[test]
    fn phone_pseudonyms_ignore_formatting() {
        // Issue 13: national, international and full-width forms of one number join.
        let out = run(
            phone_kernel(),
            texts(&[
                Some("090-1234-5678"),
                Some("09012345678"),
                Some("+81 90-1234-5678"),
                Some("+81 (0)90 1234 5678"),
                Some("０９０－１２３４－５６７８"),
                Some("0081 90 1234 5678"),
                Some("+66 90-1234-5678"),
                Some("090-1234-5679"),
            ]),
            "org",
        );
        let s = out_strings(&out);
        for same in &s[1..6] {
            assert_eq!(&s[0], same);
        }
        // Another country's number with the same national digits shares the pseudonym (the
        // documented cost of joining national and international forms); another number not.
        assert_eq!(s[0], s[6]);
        assert_ne!(s[0], s[7]);
        let v = s[0].clone().unwrap();
        assert!(v.starts_with("tel_") && v.len() == 4 + 16, "{v}");
    }

    #[test]
    fn email_pseudonyms_fold_width_and_the_domains_case() {
        let kernel = Kernel::PseudonymText {
            family: "EMAIL",
            prefix: "email_",
            normalize: Normalize::Email,
        };
        let out = run(
            kernel,
            texts(&[
                Some("Taro@Example.JP"),
                Some("Ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ"),
                Some("taro@example.jp"),
            ]),
            "org",
        );
        let s = out_strings(&out);
        assert_eq!(s[0], s[1]);
        // The local part keeps its case (RFC 5321 leaves it to the receiving server).
        assert_ne!(s[0], s[2]);
    }

    #[test]
    fn tokens_round_trip_and_carry_the_key_id() {
        let keys = keys("org");
        let out = run(Kernel::TokenSiv, texts(&[Some("taro@example.jp")]), "org");
        let token = out.as_string::<i32>().value(0).to_owned();
        assert!(token.starts_with("tok.t1."), "{token}");
        assert_eq!(detokenize(&token, &keys).unwrap(), "taro@example.jp");
        assert!(detokenize(&token, &DomainKeys::for_testing("other")).is_err());

        let out = run(Kernel::TokenFf1, texts(&[Some("4111-1111-1111-1111")]), "org");
        let token = out.as_string::<i32>().value(0).to_owned();
        assert_eq!(token.len(), 19);
        assert_eq!(token.matches('-').count(), 3);
        assert_ne!(token, "4111-1111-1111-1111");
        assert_eq!(detokenize_digits(&token, &keys).unwrap(), "4111-1111-1111-1111");
    }

    /// Regression: the digit mask counted ASCII digits only, so a full-width phone number came
    /// out as stored; a format-preserving token kept every other character, so full-width digits
    /// and letters passed through it unencrypted.
    #[test]
    fn full_width_digits_are_masked_and_never_pass_through_a_token() {
        let out = run(
            Kernel::MaskDigits { keep_last: 4 },
            texts(&[Some("０９０－１２３４－５６７８"), Some("๐๘๑ ๒๓๔ ๕๖๗๘")]),
            "org",
        );
        let s = out_strings(&out);
        assert_eq!(s[0].as_deref(), Some("****5678"));
        assert_eq!(s[1].as_deref(), Some("****5678"));
        let out = run(
            Kernel::TokenFf1,
            texts(&[
                Some("０９０－１２３４－５６７８"),
                Some("090-1234-5678 (Taro)"),
                Some("+81 (90) 1234.5678"),
            ]),
            "org",
        );
        let s = out_strings(&out);
        assert_eq!(s[0], None, "suppressed, not passed through");
        assert_eq!(s[1], None, "suppressed, not passed through");
        assert!(
            s[2].as_deref()
                .is_some_and(|t| t.starts_with("+") && t != "+81 (90) 1234.5678")
        );
    }

    fn redact(style: TextStyle, profile: RedactionProfile) -> Kernel {
        Kernel::RedactText { style, profile }
    }

    /// Issue 17: the recall profile redacts what could be a structured value in context,
    /// where the balanced one reports only what it is sure of; each kernel names its profile.
    #[test]
    fn free_text_is_redacted_at_the_chosen_profile() {
        // An order label makes the balanced detector doubt this card; recall takes it.
        let body = "Order #4111 1111 1111 1111 is yours";
        let recall = run(
            redact(TextStyle::Tags, RedactionProfile::Recall),
            texts(&[Some(body)]),
            "org",
        );
        let recall = recall.as_string::<i32>().value(0);
        assert!(!recall.contains("1111 1111"), "{recall}");
        let balanced = redact(TextStyle::Tags, RedactionProfile::Balanced);
        let found = Detector::new().find(body);
        let out = run(balanced.clone(), texts(&[Some(body)]), "org");
        assert_eq!(out.as_string::<i32>().value(0) == body, found.is_empty());
        assert_eq!(balanced.name(), "redact-text (type tags, balanced profile)");
        assert_eq!(
            redact(TextStyle::Pseudonyms, RedactionProfile::Recall).name(),
            "redact-text (typed pseudonyms, recall profile)"
        );
    }

    #[test]
    fn free_text_is_redacted_by_type() {
        let body = "電話は090-1234-5678、メールはtaro@example.jpまで";
        let tags = run(
            redact(TextStyle::Tags, RedactionProfile::Balanced),
            texts(&[Some(body)]),
            "org",
        );
        let tags = tags.as_string::<i32>().value(0);
        assert!(tags.contains("<PHONE>") && tags.contains("<EMAIL>"), "{tags}");
        assert!(!tags.contains("5678") && !tags.contains("taro"));
        let ps = run(
            redact(TextStyle::Pseudonyms, RedactionProfile::Recall),
            texts(&[Some(body)]),
            "org",
        );
        let ps = ps.as_string::<i32>().value(0).to_owned();
        // The same pseudonym the phone column gets in the same domain.
        let col = run(phone_kernel(), texts(&[Some("09012345678")]), "org");
        assert!(ps.contains(col.as_string::<i32>().value(0)), "{ps}");
        assert!(!ps.contains("5678"));
    }

    proptest! {
        #[test]
        fn a_pseudonym_never_equals_or_contains_the_raw_value(value in "[a-zA-Z0-9@._+-]{6,40}|[\\p{Han}\\p{Hiragana}]{2,8}") {
            for t in PiiType::ALL {
                let (family, prefix, normalize) = pii_pseudonym(*t);
                let out = run(Kernel::PseudonymText { family, prefix, normalize }, texts(&[Some(&value)]), "org");
                let p = out.as_string::<i32>().value(0);
                prop_assert_ne!(p, value.as_str());
                prop_assert!(!p.contains(value.as_str()));
            }
        }

        #[test]
        fn same_value_same_domain_same_pseudonym_other_domain_other(value in "\\PC{1,30}", id in any::<i64>()) {
            let a = run(phone_kernel(), texts(&[Some(&value)]), "org-a");
            let a2 = run(phone_kernel(), texts(&[Some(&value)]), "org-a");
            let b = run(phone_kernel(), texts(&[Some(&value)]), "org-b");
            prop_assert_eq!(out_strings(&a), out_strings(&a2));
            prop_assert_ne!(out_strings(&a), out_strings(&b));
            let ids: ArrayRef = Arc::new(Int64Array::from(vec![id]));
            let k = Kernel::PseudonymInt { family: "SUBJECT_KEY" };
            let x = run(k.clone(), ids.clone(), "org-a");
            let y = run(k, ids, "org-b");
            prop_assert_ne!(x.as_primitive::<Int64Type>().value(0), y.as_primitive::<Int64Type>().value(0));
        }
    }
}
