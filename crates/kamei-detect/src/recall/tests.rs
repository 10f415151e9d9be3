use std::sync::OnceLock;

use kamei_core::PiiType;
use proptest::prelude::*;

use super::*;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(Detector::new)
}

/// The recall entities of `text` as (type, matched text).
fn recall(text: &str) -> Vec<(PiiType, &str)> {
    detector()
        .find_with(text, Profile::Recall)
        .into_iter()
        .map(|e| (e.pii_type, &text[e.start..e.end]))
        .collect()
}

/// `text` redacted with type tags under the recall profile.
fn redacted(text: &str) -> String {
    crate::redact_tag(text, &detector().find_with(text, Profile::Recall))
}

/// Asserts that the recall profile hides `value` inside `text` (covered by one span) and
/// types that span `t`.
#[track_caller]
fn hides(text: &str, value: &str, t: PiiType) {
    let at = text
        .find(value)
        .unwrap_or_else(|| panic!("{value} not in {text}"));
    let ents = detector().find_with(text, Profile::Recall);
    let cover = ents.iter().find(|e| e.start <= at && at + value.len() <= e.end);
    match cover {
        Some(e) => assert_eq!(e.pii_type, t, "{text}: {:?}", &text[e.start..e.end]),
        None => panic!("{text}: `{value}` not hidden; recall gave {:?}", recall(text)),
    }
}

/// Asserts that the recall profile leaves `text` as it is.
#[track_caller]
fn keeps(text: &str) {
    assert_eq!(recall(text), vec![], "{text}");
}

#[test]
fn profiles_parse_and_print() {
    for p in Profile::ALL {
        assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
        assert_eq!(p.to_string(), p.as_str());
    }
    assert_eq!("Recall".parse::<Profile>(), Ok(Profile::Recall));
    let err = "strict".parse::<Profile>().unwrap_err().to_string();
    assert_eq!(
        err,
        "unknown detection profile `strict`; expected `balanced` or `recall`"
    );
}

#[test]
fn balanced_is_find() {
    let text = "田中さんの番号 090-1234-5678、Order #4111 1111 1111 1111";
    assert_eq!(
        detector().find_with(text, Profile::Balanced),
        detector().find(text)
    );
}

#[test]
fn long_digit_runs_in_any_script_with_any_separators() {
    use PiiType::{BankAccount, CreditCard, MyNumber, Phone};
    hides("連絡は 0九0-12三4-5678 まで", "0九0-12三4-5678", Phone);
    hides("〇九〇ー一二三四ー五六七八", "〇九〇ー一二三四ー五六七八", Phone);
    hides("โทร ๐๘๑-๒๓๔-๕๖๗๘ นะ", "๐๘๑-๒๓๔-๕๖๗๘", Phone);
    hides("رقمي ٠٩٠١٢٣٤٥٦٧٨", "٠٩٠١٢٣٤٥٦٧٨", Phone);
    hides("電話 090📞1234✨5678", "090📞1234✨5678", Phone);
    hides("call +1 646 555 0199 later", "+1 646 555 0199", Phone);
    hides("番号は 5521 8830 9917 です", "5521 8830 9917", MyNumber);
    hides("口座 普通 3071926", "3071926", BankAccount);
    hides("it is 0312.4471.882", "0312.4471.882", Phone);
    hides("x 8841 2207 5519 3307 y", "8841 2207 5519 3307", CreditCard);
    // Six digits are not enough: an OTP, a price, a time.
    keeps("OTP 448201 ke nomor");
    keeps("今日のランチ1,280円だった");
    keeps("集合は19:00、3/15");
}

#[test]
fn a_card_that_fails_luhn_or_follows_an_order_label_is_hidden() {
    use PiiType::CreditCard;
    // Balanced gives nothing here (an order label, a failing Luhn check).
    assert_eq!(detector().find("Order #4111 1111 1111 1111"), vec![]);
    hides("Order #4111 1111 1111 1111", "4111 1111 1111 1111", CreditCard);
    hides("card 4111 1111 1111 1112", "4111 1111 1111 1112", CreditCard);
    hides("注文番号：4111-1111-1111-1111", "4111-1111-1111-1111", CreditCard);
    hides("card 4111 1111 1111 111一", "4111 1111 1111 111一", CreditCard);
}

#[test]
fn dates_year_ranges_and_amounts_stay() {
    keeps("締切は2026-03-10です");
    keeps("on 10/03/2026 at noon");
    keeps("2026年3月10日に");
    keeps("from 2019-2024");
    keeps("harga Rp 1.250.000 saja");
    keeps("build 20260312");
    // A date then a number: the number is still hidden.
    hides("2026-03-10 090-1234-5678", "090-1234-5678", PiiType::Phone);
}

#[test]
fn the_tokens_around_an_at_marker_are_hidden() {
    use PiiType::Email;
    hides(
        "mail taro.yamada@example.co.jp now",
        "taro.yamada@example.co.jp",
        Email,
    );
    hides(
        "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",
        "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",
        Email,
    );
    hides("taro﹫example.jp", "taro﹫example.jp", Email);
    hides(
        "taro (at) example (dot) com",
        "taro (at) example (dot) com",
        Email,
    );
    hides("taro[at]example[dot]jp", "taro[at]example[dot]jp", Email);
    hides("taroアットexampleドットjp", "taroアットexampleドットjp", Email);
    hides("taro あっと example.jp", "taro あっと example.jp", Email);
    hides("我的邮箱 wang艾特qq.com", "wang艾特qq.com", Email);
    hides("메일 kim골뱅이naver.com", "kim골뱅이naver.com", Email);
    hides("อีเมล somchaiแอทgmail.com", "somchaiแอทgmail.com", Email);
    hides(
        "write to taro.y at example dot com please",
        "taro.y at example dot com",
        Email,
    );
    hides("write to taro at gmail", "taro at gmail", Email);
    // A mention and a file name are hidden too: recall does not ask whether it is an address.
    hides("thanks @tanaka_k", "@tanaka_k", Email);
    hides("logo@2x.png", "logo@2x.png", Email);
    // Words in running text are no markers.
    keeps("アットホームな職場です");
    keeps("あっという間だった");
    keeps("meet at the station at 7");
    keeps("I'm at home.");
}

#[test]
fn handles_after_cue_words_are_hidden() {
    use PiiType::Person;
    hides("LINE: taro_88", "taro_88", Person);
    hides("my line id is hana.k99", "hana.k99", Person);
    hides("line id hana.k99", "hana.k99", Person);
    hides("ID：sakura0401", "sakura0401", Person);
    hides("IDは yuki-0603 です", "yuki-0603", Person);
    hides("ライン　ｓａｋｕｒａ＿８８", "ｓａｋｕｒａ＿８８", Person);
    hides("ラインIDはtaro88だよ", "taro88", Person);
    hides("LINE ID: @shop123", "@shop123", Person);
    hides("微信号：wxid_abc123", "wxid_abc123", Person);
    hides("카톡 아이디 kimsu99", "kimsu99", Person);
    hides("ไอดีไลน์ ploy_2539", "ploy_2539", Person);
    keeps("ラインで話そう");
    keeps("IDは忘れた");
    keeps("the idea is good");
    keeps("a line of text");
    keeps("Line 3: ok");
}

#[test]
fn iban_shaped_runs_are_hidden_whatever_their_checksum() {
    use PiiType::Iban;
    hides(
        "IBAN GB82 WEST 1234 5698 7654 31",
        "GB82 WEST 1234 5698 7654 31",
        Iban,
    );
    hides("iban de89370400440532013001", "de89370400440532013001", Iban);
    keeps("model AB12 is out");
    // A compact tracking number then a word: the word is not taken in.
    assert_eq!(
        recall("Paket JP8830217745 gagal dikirim"),
        [(PiiType::Phone, "8830217745")]
    );
}

#[test]
fn recall_covers_balanced() {
    let text = "田中太郎 090-1234-5678 taro@example.jp 〒150-0002 東京都渋谷区渋谷2-1-1";
    let balanced = detector().find(text);
    assert!(!balanced.is_empty());
    let rec = detector().find_with(text, Profile::Recall);
    for b in &balanced {
        let cover = rec.iter().find(|r| r.start <= b.start && b.end <= r.end);
        assert_eq!(
            cover.map(|r| r.pii_type),
            Some(b.pii_type),
            "{:?}",
            &text[b.start..b.end]
        );
    }
    assert_eq!(
        redacted("Order #4111 1111 1111 1111 ok"),
        "Order #<CREDIT_CARD> ok"
    );
}

#[test]
fn digit_values_of_every_form() {
    let v: Vec<Option<u8>> = "7７七๗٧a十".chars().map(digit_value).collect();
    assert_eq!(v, [Some(7), Some(7), Some(7), Some(7), Some(7), None, None]);
}

/// Characters that make the edge cases: digits of several scripts, separators, markers,
/// cue words, full-width forms, emoji and joiners.
fn pieces() -> impl Strategy<Value = String> {
    let parts = prop::sample::select(vec![
        "0",
        "9",
        "1234",
        "０９０",
        "〇",
        "一",
        "九",
        "๘",
        "٣",
        "-",
        " ",
        "ー",
        "・",
        "の",
        "📞",
        "✨",
        "\u{FE0F}",
        "\u{200D}",
        "@",
        "＠",
        "﹫",
        "(at)",
        "アット",
        "あっと",
        "艾特",
        "골뱅이",
        "แอท",
        " at ",
        " dot ",
        "ドット",
        ".",
        "．",
        "taro",
        "ＴＡＲＯ",
        "LINE:",
        "ID：",
        "ライン",
        "line id ",
        "IDは",
        "GB82",
        "WEST",
        "注文番号",
        "Order #",
        "口座",
        "田中",
        "東京都",
        "様",
        "😀",
        "é",
        "\u{3000}",
        "+",
        "＋",
        "(",
        "（",
    ]);
    prop::collection::vec(parts, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Recall's spans cover every balanced entity, are sorted, do not overlap and lie on
    /// char boundaries, on arbitrary text.
    #[test]
    fn recall_spans_cover_balanced_and_are_valid(text in prop_oneof![pieces(), any::<String>()]) {
        let balanced = detector().find(&text);
        let rec = detector().find_with(&text, Profile::Recall);
        for w in rec.windows(2) {
            prop_assert!(w[0].end <= w[1].start, "overlap in {text:?}: {rec:?}");
        }
        for r in &rec {
            prop_assert!(r.start < r.end && r.end <= text.len());
            prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
        for b in &balanced {
            prop_assert!(
                rec.iter().any(|r| r.start <= b.start && b.end <= r.end),
                "balanced {b:?} uncovered in {text:?}: {rec:?}"
            );
        }
    }
}
