use super::*;

/// The (type, matched text) pairs the detector reports for `text`.
/// One detector for all tests: building it compiles the name automata.
fn detector() -> &'static Detector {
    static D: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    D.get_or_init(Detector::new)
}

fn found(text: &str) -> Vec<(PiiType, &str)> {
    detector()
        .find(text)
        .into_iter()
        .map(|e| (e.pii_type, &text[e.start..e.end]))
        .collect()
}

fn one(text: &str, t: PiiType, m: &str) {
    assert_eq!(found(text), vec![(t, m)], "in {text:?}");
}

fn none(text: &str) {
    assert_eq!(found(text), vec![], "in {text:?}");
}

#[test]
fn phones_of_japan_in_the_ways_people_write_them() {
    use PiiType::Phone;
    one("携帯は090-1234-5678です", Phone, "090-1234-5678");
    one(
        "携帯は０９０－１２３４－５６７８です",
        Phone,
        "０９０－１２３４－５６７８",
    );
    one("電話 090ー1234ー5678", Phone, "090ー1234ー5678");
    one("call 090–1234–5678 or", Phone, "090–1234–5678");
    one("TEL:03-1234-5678", Phone, "03-1234-5678");
    one("(03) 1234-5678 まで", Phone, "(03) 1234-5678");
    one("０３（１２３４）５６７８", Phone, "０３（１２３４）５６７８");
    one("フリーダイヤル 0120-123-456", Phone, "0120-123-456");
    one("0800-123-4567", Phone, "0800-123-4567");
    one("IP電話 050 1234 5678", Phone, "050 1234 5678");
    one("09012345678に", Phone, "09012345678");
    one("+81 90-1234-5678", Phone, "+81 90-1234-5678");
    one(
        "＋８１ ９０ １２３４ ５６７８",
        Phone,
        "＋８１ ９０ １２３４ ５６７８",
    );
    one("+81-3-1234-5678", Phone, "+81-3-1234-5678");
}

#[test]
fn phones_of_thailand_taiwan_indonesia_and_e164() {
    use PiiType::Phone;
    one("โทร 081-234-5678 นะ", Phone, "081-234-5678");
    one("Bangkok 02-123-4567", Phone, "02-123-4567");
    one("手機 0912-345-678", Phone, "0912-345-678");
    one("hubungi 0812-3456-7890 ya", Phone, "0812-3456-7890");
    one("WA +62 812 3456 7890", Phone, "+62 812 3456 7890");
    one("+66 81 234 5678", Phone, "+66 81 234 5678");
    one("+886 912 345 678", Phone, "+886 912 345 678");
    one("+14155552671", Phone, "+14155552671");
}

#[test]
fn two_phones_in_one_run_are_split() {
    let t = "090-1234-5678 03-1234-5678";
    assert_eq!(
        found(t),
        vec![
            (PiiType::Phone, "090-1234-5678"),
            (PiiType::Phone, "03-1234-5678")
        ]
    );
}

#[test]
fn numbers_that_are_not_phones() {
    none("注文番号 0312345678 の件");
    none("version 1.2.3");
    none("価格は1,280円です");
    none("2024-03-15に開催");
    none("2024年3月15日のイベント");
    none("hash 3f2a09012345678bc");
    none("order 09012345678");
    none("room 1203");
}

#[test]
fn emails() {
    one(
        "mail: taro.yamada+x@example.co.jp.",
        PiiType::Email,
        "taro.yamada+x@example.co.jp",
    );
    one(
        "連絡はhanako_99@mail.example.comまで",
        PiiType::Email,
        "hanako_99@mail.example.com",
    );
    none("@username and a@b and x@y.z1");
}

#[test]
fn cards_need_luhn_and_an_issuer() {
    use PiiType::CreditCard;
    one("カード 4111 1111 1111 1111", CreditCard, "4111 1111 1111 1111");
    one("card 4111-1111-1111-1111", CreditCard, "4111-1111-1111-1111");
    one(
        "３５３０１１１３３３３０００００",
        CreditCard,
        "３５３０１１１３３３３０００００",
    );
    one("amex 3782 822463 10005", CreditCard, "3782 822463 10005");
    none("card 4111 1111 1111 1112");
    none("9111111111111110");
}

#[test]
fn my_number_needs_its_check_digit_and_context() {
    one(
        "マイナンバーは1234 5678 9018です",
        PiiType::MyNumber,
        "1234 5678 9018",
    );
    one("my number: 123456789018", PiiType::MyNumber, "123456789018");
    none("マイナンバーは123456789012です");
    none("123456789018");
}

#[test]
fn corporate_numbers() {
    one(
        "法人番号 7000012050002",
        PiiType::CorporateNumber,
        "7000012050002",
    );
    none("法人番号 8000012050002");
}

#[test]
fn postal_codes() {
    use PiiType::PostalCode;
    one("〒100-0001 東京都", PostalCode, "100-0001");
    one("〒１００－０００１", PostalCode, "１００－０００１");
    one("〒 1000001", PostalCode, "1000001");
    one("郵便番号は150-0002", PostalCode, "150-0002");
    one("รหัสไปรษณีย์ 10110", PostalCode, "10110");
    none("1000001");
}

#[test]
fn postal_codes_of_the_us_uk_taiwan_and_indonesia() {
    one("Columbus, OH 43206", PiiType::PostalCode, "43206");
    one("Austin, TX 78731-4412", PiiType::PostalCode, "78731-4412");
    one("Didsbury, Manchester M20 6RT", PiiType::PostalCode, "M20 6RT");
    one("Whitby YO21 3DT, opens", PiiType::PostalCode, "YO21 3DT");
    one("寄到 104 台北市", PiiType::PostalCode, "104");
    one("新地址：110208 台北市", PiiType::PostalCode, "110208");
    // A word of capitals and digits that is not a postcode, and a number that is no ZIP.
    none("model AB12 3CV in stock");
    none("only 43206 left");
    assert_eq!(
        found("Jl. Darmo Permai III No. 41, Dukuh Pakis, Surabaya 60226, penerima"),
        vec![
            (
                PiiType::Address,
                "Jl. Darmo Permai III No. 41, Dukuh Pakis, Surabaya"
            ),
            (PiiType::PostalCode, "60226")
        ]
    );
}

#[test]
fn invoice_registration_numbers_are_corporate_numbers() {
    one(
        "登録番号：T7101950214456　請求日",
        PiiType::CorporateNumber,
        "7101950214456",
    );
}

#[test]
fn ip_addresses() {
    use PiiType::IpAddress;
    one("from 192.168.10.25 at", IpAddress, "192.168.10.25");
    one(
        "addr 2001:db8::8a2e:370:7334.",
        IpAddress,
        "2001:db8::8a2e:370:7334",
    );
    one("fe80::1 link", IpAddress, "fe80::1");
    none("999.1.1.1");
    none("v1.2.3.4");
    none("at 10:30:45 and std::io::Read");
}

#[test]
fn ibans() {
    one(
        "IBAN GB82 WEST 1234 5698 7654 32 please",
        PiiType::Iban,
        "GB82 WEST 1234 5698 7654 32",
    );
    one("DE89370400440532013000", PiiType::Iban, "DE89370400440532013000");
    none("GB82 WEST 1234 5698 7654 33");
}

#[test]
fn dates_of_birth_need_birth_context_and_a_real_date() {
    use PiiType::DateOfBirth;
    one("生年月日: 1990/04/01", DateOfBirth, "1990/04/01");
    one("1985年12月3日生まれ", DateOfBirth, "1985年12月3日");
    one("平成2年1月2日生まれです", DateOfBirth, "平成2年1月2日");
    one("born 03/15/1990", DateOfBirth, "03/15/1990");
    one("DOB 15-03-1990", DateOfBirth, "15-03-1990");
    one(
        "My date of birth is 14 March 1988 - ok",
        DateOfBirth,
        "14 March 1988",
    );
    one("my bday is June 9, 1995 so", DateOfBirth, "June 9, 1995");
    one("Tanggal lahir: 17 Agustus 1992", DateOfBirth, "17 Agustus 1992");
    one("เกิดวันที่ 5 มีนาคม 2535", DateOfBirth, "5 มีนาคม 2535");
    none("the meeting is on 14 March 2025");
    none("生年月日: 1990/02/30");
    none("meeting on 2024/04/01");
}

#[test]
fn passports_licences_and_bank_accounts_by_context() {
    one("passport TK1234567", PiiType::Passport, "TK1234567");
    one("パスポート番号はTK1234567", PiiType::Passport, "TK1234567");
    none("model TK1234567");
    one("免許証番号 123456789012", PiiType::DriverLicense, "123456789012");
    one("普通口座 1234567", PiiType::BankAccount, "1234567");
    one(
        "三菱UFJ銀行 新宿支店 普通 0123456",
        PiiType::BankAccount,
        "0123456",
    );
    one("account no. 123-456789", PiiType::BankAccount, "123-456789");
}

#[test]
fn entities_are_sorted_disjoint_and_scored() {
    let t = "田中です。携帯090-1234-5678、mail a@example.jp、〒150-0002、IP 10.0.0.1";
    let es = detector().find(t);
    // 田中です ("I am Tanaka") is a person too.
    assert_eq!(es.len(), 5);
    assert_eq!(es[0].pii_type, PiiType::Person);
    for w in es.windows(2) {
        assert!(w[0].end <= w[1].start);
    }
    for e in &es {
        assert!((MIN_SCORE..=1.0).contains(&e.score));
        assert!(t.is_char_boundary(e.start) && t.is_char_boundary(e.end));
    }
}

mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn offsets_slice_the_original_text(
            s in "[0-9０-９a-zA-Zａ-ｚＡ-Ｚ@＠.．:+()\\- ー－―〒年月日生まれ電話携帯様さん東京都新宿区丁目〇一二三四五六七八九零壱弐参○๐-๙٠-٩★📞_]{0,80}"
        ) {
            let es = detector().find(&s);
            let mut last = 0;
            for e in es {
                prop_assert!(e.start >= last && e.start < e.end && e.end <= s.len());
                prop_assert!(s.is_char_boundary(e.start) && s.is_char_boundary(e.end));
                prop_assert!((0.0..=1.0).contains(&e.score));
                last = e.end;
            }
        }

        /// The name recognizers of other scripts walk characters back and forth around their
        /// triggers (Thai titles, Chinese titles and lists, capitalised Latin words).
        #[test]
        fn offsets_slice_the_original_text_in_every_script(
            s in "([A-Z][a-z]{0,6}|คุณ|นาย|พี่|ฝากบอก|ขอบ|สมชาย|ศรีสุข|陳|林|黃|先生|小姐|跟|說|、|「|名單|志豪|雅婷|[ก-๛]|[一-龥]| |，|'s|-| de ){0,30}"
        ) {
            let es = detector().find(&s);
            let mut last = 0;
            for e in es {
                prop_assert!(e.start >= last && e.start < e.end && e.end <= s.len());
                prop_assert!(s.is_char_boundary(e.start) && s.is_char_boundary(e.end));
                last = e.end;
            }
        }

        /// The loose e-mail reader walks folded characters both ways around spelled markers.
        #[test]
        fn offsets_slice_the_original_text_around_hidden_separators(
            s in "([a-z]{1,5}|[ａ-ｚ]{1,3}|[0-9]{1,4}|[〇一二三四五六七八九]{1,4}| at | dot |\\(at\\)|\\[dot\\]|アット|あっと|ドット|どっと|＠マーク|★|＠|@|．|\\.|。| |　|ー|-|📞|❤️|点|닷|골뱅이|com|jp){0,24}"
        ) {
            let es = detector().find(&s);
            let mut last = 0;
            for e in es {
                prop_assert!(e.start >= last && e.start < e.end && e.end <= s.len());
                prop_assert!(s.is_char_boundary(e.start) && s.is_char_boundary(e.end));
                last = e.end;
            }
        }

        /// Numbers of mixed digit forms with the separators and words around them that the
        /// run reader treats apart (numerals in words, keycaps, flags, commas), and addresses
        /// in mathematical letters or with a homoglyph; a mask of what was found shows no digit.
        #[test]
        fn offsets_slice_the_original_text_in_mixed_digit_forms(
            s in "([0-9]{1,4}|[０-９]{1,3}|[〇一二三四五六七八九○零壱弐参玖捌]{1,4}|[๐-๙]{1,3}|[٠-٩]{1,3}|[𝟎-𝟗]{1,3}|唯|緒|番|迄|宛|年|月|人|-|ー|、|,|·|•|⬛|→|🇯🇵|0️⃣|\u{FE0F}|\u{20E3}| |　|電話|card|カード|〒|@|＠|tarо|𝐭𝐚𝐫𝐨|gmail|\\.|com| at |★){0,30}"
        ) {
            let es = detector().find(&s);
            let mut last = 0;
            for e in es {
                prop_assert!(e.start >= last && e.start < e.end && e.end <= s.len());
                prop_assert!(s.is_char_boundary(e.start) && s.is_char_boundary(e.end));
                let masked = crate::mask(&s[e.start..e.end]);
                prop_assert!(masked.chars().all(|c| kamei_core::digit::value(c).is_none()), "{masked:?}");
                last = e.end;
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            for e in detector().find(&s) {
                prop_assert!(s.get(e.start..e.end).is_some());
            }
        }
    }
}

/// Regression: with triggers and surnames in one automaton, a surname that covers a place
/// trigger (島村 over 村, 市川 over 市, 町田 over 町) or an honorific (岡部 over 部長) hid it, and
/// the address or name went unredacted.
#[test]
fn a_surname_covering_a_trigger_does_not_hide_it() {
    use PiiType::{Address, Person};
    one("新島村本村1-2-3に住んでいます", Address, "新島村本村1-2-3");
    one("甲府市川田町1-2-3", Address, "甲府市川田町1-2-3");
    one("忍野村忍草1-2", Address, "忍野村忍草1-2");
    one("町田市原町田1-2-3", Address, "町田市原町田1-2-3");
    one("岡部長に確認します", Person, "岡");
}

#[test]
fn phones_in_kanji_thai_and_other_digits() {
    use PiiType::Phone;
    one(
        "電話は〇九〇ー一二三四ー五六七八です",
        Phone,
        "〇九〇ー一二三四ー五六七八",
    );
    one("携帯 〇八〇一二三四五六七八 に", Phone, "〇八〇一二三四五六七八");
    one("番号は○九○-一二三四-五六七八", Phone, "○九○-一二三四-五六七八");
    one(
        "れんらく 零九零 壱弐参四 伍陸七捌",
        Phone,
        "零九零 壱弐参四 伍陸七捌",
    );
    one("โทร ๐๘๑-๒๓๔-๕๖๗๘ นะ", Phone, "๐๘๑-๒๓๔-๕๖๗๘");
    one("رقمي ٠٩٠١٢٣٤٥٦٧٨", Phone, "٠٩٠١٢٣٤٥٦٧٨");
    one("WA +९१ ९८७६५ ४३२१०", Phone, "+९१ ९८७६५ ४३२१०");
    one("tel 𝟎𝟗𝟎-𝟏𝟐𝟑𝟒-𝟓𝟔𝟕𝟖", Phone, "𝟎𝟗𝟎-𝟏𝟐𝟑𝟒-𝟓𝟔𝟕𝟖");
    one("電話 ０９０―１２３４―５６７８", Phone, "０９０―１２３４―５６７８");
}

#[test]
fn phones_split_by_spaces_dots_and_emoji() {
    use PiiType::Phone;
    one("0 9 0 1 2 3 4 5 6 7 8 に電話", Phone, "0 9 0 1 2 3 4 5 6 7 8");
    one("call 090.1234.5678", Phone, "090.1234.5678");
    one("090📞1234📞5678", Phone, "090📞1234📞5678");
    one("でんわ 090★1234★5678", Phone, "090★1234★5678");
    one("090_1234_5678", Phone, "090_1234_5678");
    one("０９０・１２３４・５６７８", Phone, "０９０・１２３４・５６７８");
    one("080〜1234〜5678 まで", Phone, "080〜1234〜5678");
    one("090 - 1234 - 5678", Phone, "090 - 1234 - 5678");
    one("090❤️1234❤️5678", Phone, "090❤️1234❤️5678");
    one(
        "番号は〇九〇の一二三四の五六七八です",
        Phone,
        "〇九〇の一二三四の五六七八",
    );
    none("丸の内一の二の三");
    none("3丁目2の3の4");
    one("090-1234-5678❤️", Phone, "090-1234-5678");
    none("1 2 3 4 5 6 7 8 9 10");
    // Sixteen groups fit in a run now: a count is still no corporate number or card.
    none("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
    none("scores 10 20 30 40 50 60");
    none("2024_03_15 の写真");
    none("3★4★5 stars");
}

#[test]
fn cards_and_my_numbers_in_other_digits() {
    use PiiType::{CreditCard, MyNumber};
    one(
        "カード 四一一一 一一一一 一一一一 一一一一",
        CreditCard,
        "四一一一 一一一一 一一一一 一一一一",
    );
    one("บัตร ๔๑๑๑ ๑๑๑๑ ๑๑๑๑ ๑๑๑๑", CreditCard, "๔๑๑๑ ๑๑๑๑ ๑๑๑๑ ๑๑๑๑");
    one(
        "card 4111✨1111✨1111✨1111",
        CreditCard,
        "4111✨1111✨1111✨1111",
    );
    one(
        "card 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
        CreditCard,
        "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
    );
    none("カード 四一一一 一一一一 一一一一 一一一二");
    one(
        "マイナンバーは一二三四 五六七八 九〇一八です",
        MyNumber,
        "一二三四 五六七八 九〇一八",
    );
    one(
        "マイナンバー １２３４－５６７８－９０１８",
        MyNumber,
        "１２３４－５６７８－９０１８",
    );
    none("マイナンバーは一二三四 五六七八 九〇一二です");
}

#[test]
fn kanji_numerals_in_words_are_not_digits() {
    use PiiType::Phone;
    one("090-1234-5678一緒に", Phone, "090-1234-5678");
    one("第一090-1234-5678", Phone, "090-1234-5678");
    none("二〇二四年の三月に一緒に九州へ");
    none("一二三四五六七八九十");
    none("三三七拍子と一一〇番");
    none("参加者は五六人");
}

#[test]
fn dates_of_birth_in_kanji_numerals() {
    use PiiType::DateOfBirth;
    one("一九九〇年四月一日生まれ", DateOfBirth, "一九九〇年四月一日");
    one("平成二年一月二日生まれです", DateOfBirth, "平成二年一月二日");
}

#[test]
fn emails_hidden_from_filters() {
    use PiiType::Email;
    one(
        "メアド：ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",
        Email,
        "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",
    );
    one("taro.yamada＠example.co.jp", Email, "taro.yamada＠example.co.jp");
    one("taro(at)example.com", Email, "taro(at)example.com");
    one(
        "john.smith at example dot com",
        Email,
        "john.smith at example dot com",
    );
    one("taroアットexample.ne.jpに", Email, "taroアットexample.ne.jp");
    one(
        "hanako あっと example ドット jp",
        Email,
        "hanako あっと example ドット jp",
    );
    none("logo@2x.png");
    none("icon@3x.webp");
    none("git clone git@github.com:org/repo.git");
    none("look at example.com");
}

#[test]
fn ibans_postcodes_and_addresses_in_full_width_forms() {
    one(
        "IBAN ＧＢ８２ ＷＥＳＴ １２３４ ５６９８ ７６５４ ３２ です",
        PiiType::Iban,
        "ＧＢ８２ ＷＥＳＴ １２３４ ５６９８ ７６５４ ３２",
    );
    one(
        "口座はＤＥ８９３７０４００４４０５３２０１３０００",
        PiiType::Iban,
        "ＤＥ８９３７０４００４４０５３２０１３０００",
    );
    one("London ＳＷ１Ａ １ＡＡ", PiiType::PostalCode, "ＳＷ１Ａ １ＡＡ");
    one(
        "IP １９２．１６８．１．１０ に",
        PiiType::IpAddress,
        "１９２．１６８．１．１０",
    );
    one(
        "法人番号 ７０００ー０１２０５ー０００２",
        PiiType::CorporateNumber,
        "７０００ー０１２０５ー０００２",
    );
    one(
        "生年月日：１９９０／０４／０１",
        PiiType::DateOfBirth,
        "１９９０／０４／０１",
    );
    none("ＧＢ８２ ＷＥＳＴ １２３４ ５６９８ ７６５４ ３３");
    none("ＮＨＫ ＢＳ１ で");
}

#[test]
fn versions_and_order_numbers_are_not_personal() {
    use PiiType::{IpAddress, MyNumber, Phone};
    none("updated to 1.2.3.4 today");
    none("version 1.2.3.4");
    none("Windows v10.0.19045");
    none("build 10.0.19045.3570");
    none("注文番号：0312345678");
    none("注文番号 090-1234-5678");
    none("order no. 123456789019");
    // 注文 alone is no label: the number after it is a phone. (A card after an order label
    // is lost to the negative context word, as before the labels: the recall-first profile's
    // job, issue 17 item 3.)
    one("ご注文は090-1234-5678まで", Phone, "090-1234-5678");
    // A check digit outweighs a label typed in front of the number.
    one(
        "マイナンバーです 注文番号：123456789018",
        MyNumber,
        "123456789018",
    );
    none("訂單編號 0912345678");
    one("DNS 8.8.8.8", IpAddress, "8.8.8.8");
    one("router 10.0.0.1", IpAddress, "10.0.0.1");
    one("注文の件は 090-1234-5678 へ", Phone, "090-1234-5678");
}

/// The development sets' F1, scored as `kamei eval-detect` scores it (same type, spans in
/// code points overlapping by at least half their union), without building the command line:
/// `cargo test -p kamei-detect --release -- --ignored --nocapture development_sets`.
/// Only the development and first hand-labelled sets: the held-out and blind sets are not
/// for tuning.
#[test]
#[ignore = "prints F1 on tests/data/dev.jsonl and hand_labelled.jsonl"]
fn development_sets_f1() {
    for set in ["dev.jsonl", "hand_labelled.jsonl"] {
        let path = format!("{}/../../tests/data/{set}", env!("CARGO_MANIFEST_DIR"));
        let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // (gold, predicted, true positives) per type.
        let mut counts: std::collections::BTreeMap<PiiType, [usize; 3]> = Default::default();
        for line in data.lines().filter(|l| !l.trim().is_empty()) {
            let (text, gold) = gold_line(line);
            let cps = |byte: usize| text[..byte].chars().count();
            let preds: Vec<(PiiType, usize, usize)> = detector()
                .find(&text)
                .into_iter()
                .map(|e| (e.pii_type, cps(e.start), cps(e.end)))
                .collect();
            let mut used = vec![false; preds.len()];
            for &(t, s, e) in &gold {
                counts.entry(t).or_default()[0] += 1;
                let hit = preds.iter().enumerate().find(|(k, p)| {
                    let inter = p.2.min(e).saturating_sub(p.1.max(s));
                    let union = p.2.max(e) - p.1.min(s);
                    !used[*k] && p.0 == t && union > 0 && 2 * inter >= union
                });
                if let Some((k, _)) = hit {
                    used[k] = true;
                    counts.entry(t).or_default()[2] += 1;
                }
            }
            for p in &preds {
                counts.entry(p.0).or_default()[1] += 1;
            }
        }
        let f1 = |c: [usize; 3]| 2.0 * c[2] as f64 / (c[0] + c[1]).max(1) as f64;
        let structured = [
            PiiType::Email,
            PiiType::Phone,
            PiiType::CreditCard,
            PiiType::MyNumber,
            PiiType::CorporateNumber,
            PiiType::PostalCode,
            PiiType::IpAddress,
            PiiType::Iban,
        ];
        let mut sum = [[0usize; 3]; 2];
        println!("{set}");
        for (t, c) in &counts {
            println!(
                "  {:<18} gold {:>4} pred {:>4} tp {:>4} f1 {:.3}",
                t.as_str(),
                c[0],
                c[1],
                c[2],
                f1(*c)
            );
            for k in 0..3 {
                sum[1][k] += c[k];
                if structured.contains(t) {
                    sum[0][k] += c[k];
                }
            }
        }
        println!("  structured F1 {:.3}, overall F1 {:.3}", f1(sum[0]), f1(sum[1]));
    }
}

/// The text and the entities (type, start, end in code points) of one gold line. The gold
/// files are written by scripts/build-gold.py in one fixed shape, so a small reader does.
fn gold_line(line: &str) -> (String, Vec<(PiiType, usize, usize)>) {
    let string_after = |key: &str, from: usize| -> (String, usize) {
        let at = from + line[from..].find(key).expect("key") + key.len();
        let mut out = String::new();
        let mut chars = line[at..].char_indices();
        while let Some((k, c)) = chars.next() {
            match c {
                '"' => return (out, at + k + 1),
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('u') => {
                        let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                        let v = u32::from_str_radix(&hex, 16).expect("hex");
                        out.push(char::from_u32(v).expect("BMP escape"));
                    }
                    Some(c) => out.push(c),
                    None => break,
                },
                c => out.push(c),
            }
        }
        panic!("unterminated string in {line}");
    };
    let number_after = |key: &str, from: usize| -> (usize, usize) {
        let at = from + line[from..].find(key).expect("key") + key.len();
        let digits: String = line[at..].chars().take_while(char::is_ascii_digit).collect();
        (digits.parse().expect("number"), at + digits.len())
    };
    let (text, mut at) = string_after("\"text\": \"", 0);
    let mut entities = Vec::new();
    while line[at..].contains("\"type\": \"") {
        let (t, next) = string_after("\"type\": \"", at);
        let (start, next) = number_after("\"start\": ", next);
        let (end, next) = number_after("\"end\": ", next);
        let t = PiiType::ALL
            .iter()
            .find(|p| p.as_str() == t)
            .copied()
            .expect("type");
        entities.push((t, start, end));
        at = next;
    }
    (text, entities)
}

#[test]
fn phones_of_the_services_countries_in_national_and_spaced_international_forms() {
    use PiiType::Phone;
    for (text, want) in [
        // E.164 with spaces, brackets and dashes.
        ("call me +1 646 555 0123 tonight", "+1 646 555 0123"),
        ("+1 (646) 555-0123", "+1 (646) 555-0123"),
        ("+81 3 1234 5678", "+81 3 1234 5678"),
        ("WA +62 821 1234 5678", "+62 821 1234 5678"),
        ("+66 2 123 4567", "+66 2 123 4567"),
        ("+886 2 2345 6789", "+886 2 2345 6789"),
        ("+82 10 1234 5678", "+82 10 1234 5678"),
        ("+86 138 1234 5678", "+86 138 1234 5678"),
        ("zalo +84 91 234 56 78", "+84 91 234 56 78"),
        ("+49 151 23456789", "+49 151 23456789"),
        ("+49 (0)30 12345678", "+49 (0)30 12345678"),
        ("0081 90 1234 5678", "0081 90 1234 5678"),
        ("00 86 138 1234 5678", "00 86 138 1234 5678"),
        // National forms.
        ("(646) 555-0123", "(646) 555-0123"),
        ("cell 646-555-0123", "646-555-0123"),
        ("cell 646.555.0123", "646.555.0123"),
        ("1-800-555-0199", "1-800-555-0199"),
        ("전화 010-1234-5678 로 주세요", "010-1234-5678"),
        ("02-1234-5678", "02-1234-5678"),
        ("sđt 0912 345 678 nhé", "0912 345 678"),
        ("028 3823 4567", "028 3823 4567"),
        ("电话：021-6234-5678", "021-6234-5678"),
        ("Handy 0151 23456789", "0151 23456789"),
        ("Tel. 030 12345678", "030 12345678"),
    ] {
        one(text, Phone, want);
    }
}

#[test]
fn mainland_chinese_mobiles() {
    use PiiType::Phone;
    one("手机 13812345678", Phone, "13812345678");
    one("我的手机号是13912345678，微信同号", Phone, "13912345678");
    one("138-1234-5678", Phone, "138-1234-5678");
    one("打 159 1234 5678 找我", Phone, "159 1234 5678");
    one("call 186 12345678", Phone, "186 12345678");
    one("1 3 8 1 2 3 4 5 6 7 8", Phone, "1 3 8 1 2 3 4 5 6 7 8");
    // Not a mobile prefix, not eleven digits, or an order's number.
    none("12812345678");
    none("1381234567");
    none("订单号 13812345678");
    none("快递单号 13812345678");
    none("order 13812345678");
    // A bank account's inner 00 group is no international prefix.
    none("no. rek 137-00-1183920-5");
}

#[test]
fn chinese_and_korean_postal_codes_after_their_cues() {
    use PiiType::PostalCode;
    one("邮编 200120", PostalCode, "200120");
    one("邮政编码：100080", PostalCode, "100080");
    one("郵遞區號 100", PostalCode, "100");
    one("우편번호 06234", PostalCode, "06234");
    one("(우) 06234", PostalCode, "06234");
    assert_eq!(
        found("(06234) 서울특별시 강남구 테헤란로 152"),
        vec![
            (PostalCode, "06234"),
            (PiiType::Address, "서울특별시 강남구 테헤란로 152")
        ]
    );
    // Six and five digits without a cue are counts, prices and codes of anything.
    none("200120");
    none("인구 06234");
    none("我买了 200120 个");
}

#[test]
fn korean_road_name_addresses() {
    use PiiType::Address;
    one(
        "주소는 서울특별시 강남구 테헤란로 152 입니다",
        Address,
        "서울특별시 강남구 테헤란로 152",
    );
    one(
        "경기도 성남시 분당구 판교역로 235 (삼평동)으로 보내주세요",
        Address,
        "경기도 성남시 분당구 판교역로 235 (삼평동)",
    );
    one(
        "부산 해운대구 해운대로 570, 101동 1001호",
        Address,
        "부산 해운대구 해운대로 570, 101동 1001호",
    );
    none("내일 3시 강남역에서 봐");
    none("강남구 회사로 3시까지 와");
    none("서울시 인구는 900만 명");
}

#[test]
fn english_street_addresses() {
    use PiiType::{Address, PostalCode};
    assert_eq!(
        found("I live at 123 Main St, Springfield, IL 62704"),
        vec![(Address, "123 Main St, Springfield, IL"), (PostalCode, "62704")]
    );
    assert_eq!(
        found("i moved! 1189 Maple Ave, Apt 4B, Columbus, OH 43206"),
        vec![
            (Address, "1189 Maple Ave, Apt 4B, Columbus, OH"),
            (PostalCode, "43206")
        ]
    );
    one("send it to 350 5th Ave #12 pls", Address, "350 5th Ave #12");
    one(
        "Suite is at 42 W 23rd St. Suite 300",
        Address,
        "42 W 23rd St. Suite 300",
    );
    one("221B Baker Street is famous", Address, "221B Baker Street");
    one("meet me at 12 Oak Rd", Address, "12 Oak Rd");
    none("I have 3 main roads to cross");
    none("Route 66");
    none("we drove Route 66 for 3 days");
    none("Top 10 Best Way to cook rice");
    none("upload 5 Google Drive files");
    none("chapter 12 The Long Road");
}

/// Review item 1: one digit of another form in a number hid it from every shape.
#[test]
fn digits_of_mixed_forms_are_one_number() {
    use PiiType::{CreditCard, Phone};
    one("電話は090-12三4-5678", Phone, "090-12三4-5678");
    one("card 4111 1111 1111 111一", CreditCard, "4111 1111 1111 111一");
    one("card 4111 1111 1111 111๑", CreditCard, "4111 1111 1111 111๑");
    one("電話は〇九〇-1234-5678", Phone, "〇九〇-1234-5678");
    one("電話は0九0-1234-5678", Phone, "0九0-1234-5678");
    one("tel ๐๙๐-1234-٥٦٧٨", Phone, "๐๙๐-1234-٥٦٧٨");
    // A numeral that belongs to a word before or after the number stays out of it.
    one("唯一090-1234-5678", Phone, "090-1234-5678");
    one("第一0120-123-456", Phone, "0120-123-456");
    one("090-1234-5678一緒に", Phone, "090-1234-5678");
    one("090-1234-5678 一緒に", Phone, "090-1234-5678");
    one("携帯〇八〇一二三四五六七八", Phone, "〇八〇一二三四五六七八");
    none("第3四半期の売上");
    none("一人で三日間、九州へ");
}

/// Review item 8: the word test applies to a group's first numeral only, so the last digit of
/// a number before 番, 迄 or 宛 is not left behind.
#[test]
fn a_numeral_before_a_word_ends_the_number_it_belongs_to() {
    use PiiType::Phone;
    one(
        "電話は〇九〇ー一二三四ー五六七八番です",
        Phone,
        "〇九〇ー一二三四ー五六七八",
    );
    one("〇九〇一二三四五六七八迄", Phone, "〇九〇一二三四五六七八");
    one("○九○-一二三四-五六七八宛に", Phone, "○九○-一二三四-五六七八");
}

/// Review item 7: `○` is how forms print a digit to fill in; a run of nothing but zeros is a
/// template.
#[test]
fn placeholders_of_zeros_are_no_values() {
    none("〒○○○-○○○○");
    none("お問い合わせは○○○-○○○○-○○○○まで");
    none("電話番号：〇〇〇-〇〇〇〇-〇〇〇〇");
    none("000-0000-0000");
    one("〒100-0001", PiiType::PostalCode, "100-0001");
    one("電話は○九○-1234-5678", PiiType::Phone, "○九○-1234-5678");
}

/// Review item 6: lists of single digits pass Luhn one time in ten.
#[test]
fn lists_of_single_digits_need_a_card_word() {
    use PiiType::CreditCard;
    // Sixteen answers of a survey that pass Luhn with a Visa's first digit.
    none("answers: 4 5 3 2 5 4 4 3 5 5 4 3 2 4 3 2");
    none("4 5 3 2 5 4 4 3 5 5 4 3 2 4 2 4");
    none("scores 1 2 3 4 5 6 7 8 9 0 1 8");
    one(
        "カード番号 4 5 3 2 5 4 4 3 5 5 4 3 2 4 3 2",
        CreditCard,
        "4 5 3 2 5 4 4 3 5 5 4 3 2 4 3 2",
    );
    one(
        "マイナンバー 1 2 3 4 5 6 7 8 9 0 1 8",
        PiiType::MyNumber,
        "1 2 3 4 5 6 7 8 9 0 1 8",
    );
}

/// Review item 8: separators that hid a number.
#[test]
fn numbers_split_by_keycaps_bullets_commas_flags_and_shapes() {
    use PiiType::Phone;
    for t in [
        "0️⃣9️⃣0️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣",
        "090·1234·5678",
        "090•1234•5678",
        "090、1234、5678",
        "090,1234,5678",
        "090，1234，5678",
        "090🇯🇵1234🇯🇵5678",
        "090⬛1234⬛5678",
        "090→1234→5678",
        "090■1234■5678",
        "090▲1234▲5678",
        "090⏰1234⏰5678",
    ] {
        let text = format!("電話 {t} です");
        // A keycap's marks after the last digit hide nothing.
        one(&text, Phone, t.trim_end_matches(['\u{FE0F}', '\u{20E3}']));
    }
    // Amounts keep their thousands, lists their items.
    none("合計 1,234,567円");
    one("my bday is June 9, 1995", PiiType::DateOfBirth, "June 9, 1995");
    none("1, 2, 3, 4, 5");
    none("$12,345,678");
}

/// Review item 5: `<word> at <provider>` in prose is no address.
#[test]
fn prose_at_a_domain_is_no_address() {
    use PiiType::Email;
    none("Sign in at outlook.com");
    none("I work at Yahoo.co.jp now");
    none("log in at icloud.com");
    none("You can buy it at au.com");
    none("See you at Live.com");
    none("The file is at docs [dot] google [dot] com");
    none("NEW★Amazon.co.jp限定");
    one("taro at gmail dot com", Email, "taro at gmail dot com");
    one("taro(at)example.jp", Email, "taro(at)example.jp");
    one("taro at gmail.com", Email, "taro at gmail.com");
    one("email me: info at example.com", Email, "info at example.com");
    one("★を@に taro★example.jp", Email, "taro★example.jp");
}

/// Review item 8: e-mail addresses that slipped through.
#[test]
fn emails_with_one_space_math_letters_or_a_homoglyph() {
    use PiiType::Email;
    one("taro @gmail.com", Email, "taro @gmail.com");
    none("thanks @taro.jp for the link");
    one("mail 𝐭𝐚𝐫𝐨@𝐠𝐦𝐚𝐢𝐥.𝐜𝐨𝐦", Email, "𝐭𝐚𝐫𝐨@𝐠𝐦𝐚𝐢𝐥.𝐜𝐨𝐦");
    one("mail 𝘵𝘢𝘳𝘰@example.jp", Email, "𝘵𝘢𝘳𝘰@example.jp");
    one("tarо@gmail.com", Email, "tarо@gmail.com");
    one("taro@gmаil.com", Email, "taro@gmаil.com");
    one("メールはtarо@gmail.comです", Email, "tarо@gmail.com");
    none("Привет @мир");
}
