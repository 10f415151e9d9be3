//! Words near a candidate that raise or lower the confidence in it.
//!
//! One Aho-Corasick automaton (ASCII case-insensitive) holds every context word with the
//! set of types it speaks for; a candidate looks only at a short window of text around
//! itself, so the cost is paid per candidate, never per byte of input.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// A set of context classes, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ctx(u32);

impl Ctx {
    pub(crate) const PHONE: Ctx = Ctx(1);
    pub(crate) const EMAIL: Ctx = Ctx(1 << 1);
    pub(crate) const CARD: Ctx = Ctx(1 << 2);
    pub(crate) const MY_NUMBER: Ctx = Ctx(1 << 3);
    pub(crate) const CORPORATE: Ctx = Ctx(1 << 4);
    pub(crate) const POSTAL: Ctx = Ctx(1 << 5);
    pub(crate) const ADDRESS: Ctx = Ctx(1 << 6);
    pub(crate) const BANK: Ctx = Ctx(1 << 7);
    pub(crate) const BIRTH: Ctx = Ctx(1 << 8);
    pub(crate) const PASSPORT: Ctx = Ctx(1 << 9);
    pub(crate) const LICENSE: Ctx = Ctx(1 << 10);
    pub(crate) const IP: Ctx = Ctx(1 << 11);
    /// Words that say a number is not about a person: orders, tracking, coupons, versions.
    pub(crate) const NEGATIVE: Ctx = Ctx(1 << 12);

    pub(crate) fn has(self, other: Ctx) -> bool {
        self.0 & other.0 != 0
    }

    fn union(self, other: Ctx) -> Ctx {
        Ctx(self.0 | other.0)
    }
}

/// The context words. English words are matched case-insensitively.
const WORDS: &[(&str, Ctx)] = &[
    // Phone.
    ("電話", Ctx::PHONE),
    ("tel", Ctx::PHONE),
    ("携帯", Ctx::PHONE),
    ("連絡先", Ctx::PHONE),
    ("ケータイ", Ctx::PHONE),
    ("phone", Ctx::PHONE),
    ("call", Ctx::PHONE),
    ("mobile", Ctx::PHONE),
    ("whatsapp", Ctx::PHONE),
    ("fax", Ctx::PHONE),
    ("โทร", Ctx::PHONE),
    ("เบอร์", Ctx::PHONE),
    ("電話號碼", Ctx::PHONE),
    ("手機", Ctx::PHONE),
    ("telp", Ctx::PHONE),
    ("hp", Ctx::PHONE),
    ("nomor", Ctx::PHONE),
    ("hubungi", Ctx::PHONE),
    ("电话", Ctx::PHONE),
    ("手机", Ctx::PHONE),
    ("联系方式", Ctx::PHONE),
    ("微信", Ctx::PHONE),
    ("전화", Ctx::PHONE),
    ("휴대폰", Ctx::PHONE),
    ("핸드폰", Ctx::PHONE),
    ("연락처", Ctx::PHONE),
    ("điện thoại", Ctx::PHONE),
    ("sđt", Ctx::PHONE),
    ("sdt", Ctx::PHONE),
    ("zalo", Ctx::PHONE),
    // E-mail.
    ("mail", Ctx::EMAIL),
    ("email", Ctx::EMAIL),
    ("e-mail", Ctx::EMAIL),
    ("gmail", Ctx::EMAIL),
    ("contact", Ctx::EMAIL),
    ("メアド", Ctx::EMAIL),
    ("アドレス", Ctx::EMAIL),
    ("邮箱", Ctx::EMAIL),
    ("邮件", Ctx::EMAIL),
    ("電郵", Ctx::EMAIL),
    // Non-ASCII words match inside longer ones: 메일 is in 이메일 too.
    ("메일", Ctx::EMAIL),
    ("surel", Ctx::EMAIL),
    ("メール", Ctx::EMAIL),
    ("อีเมล", Ctx::EMAIL),
    ("郵件", Ctx::EMAIL),
    // Card.
    ("カード", Ctx::CARD),
    ("card", Ctx::CARD),
    ("visa", Ctx::CARD),
    ("mastercard", Ctx::CARD),
    ("jcb", Ctx::CARD),
    ("amex", Ctx::CARD),
    ("クレジット", Ctx::CARD),
    ("クレカ", Ctx::CARD),
    ("信用卡", Ctx::CARD),
    ("บัตร", Ctx::CARD),
    ("kartu", Ctx::CARD),
    // My Number.
    ("マイナンバー", Ctx::MY_NUMBER),
    ("個人番号", Ctx::MY_NUMBER),
    ("my number", Ctx::MY_NUMBER),
    ("mynumber", Ctx::MY_NUMBER),
    ("individual number", Ctx::MY_NUMBER),
    // マイナ番号, マイナカード, and the half-width kana people paste from old forms.
    ("マイナ", Ctx::MY_NUMBER),
    ("ﾏｲﾅ", Ctx::MY_NUMBER),
    ("通知カード", Ctx::MY_NUMBER),
    // Corporate number.
    ("法人番号", Ctx::CORPORATE),
    ("corporate number", Ctx::CORPORATE),
    ("会社番号", Ctx::CORPORATE),
    ("インボイス", Ctx::CORPORATE),
    ("適格請求書", Ctx::CORPORATE),
    // Postal code.
    ("〒", Ctx::POSTAL),
    ("郵便", Ctx::POSTAL),
    ("postal", Ctx::POSTAL),
    ("zip", Ctx::POSTAL),
    ("postcode", Ctx::POSTAL),
    ("post code", Ctx::POSTAL),
    ("รหัสไปรษณีย์", Ctx::POSTAL),
    ("郵遞區號", Ctx::POSTAL),
    ("郵政編碼", Ctx::POSTAL),
    ("kode pos", Ctx::POSTAL),
    ("邮编", Ctx::POSTAL),
    ("邮政编码", Ctx::POSTAL),
    ("郵編", Ctx::POSTAL),
    ("우편번호", Ctx::POSTAL),
    ("(우)", Ctx::POSTAL),
    ("（우）", Ctx::POSTAL),
    ("mã bưu chính", Ctx::POSTAL),
    // Address.
    ("住所", Ctx::ADDRESS),
    ("address", Ctx::ADDRESS),
    ("ที่อยู่", Ctx::ADDRESS),
    ("地址", Ctx::ADDRESS),
    ("alamat", Ctx::ADDRESS),
    ("お届け先", Ctx::ADDRESS),
    ("จังหวัด", Ctx::ADDRESS),
    ("กรุงเทพ", Ctx::ADDRESS),
    ("jl.", Ctx::ADDRESS),
    ("送り先", Ctx::ADDRESS),
    ("주소", Ctx::ADDRESS),
    ("địa chỉ", Ctx::ADDRESS),
    // Bank account.
    ("口座", Ctx::BANK),
    ("普通", Ctx::BANK),
    ("当座", Ctx::BANK),
    ("支店", Ctx::BANK),
    ("振込", Ctx::BANK),
    ("銀行", Ctx::BANK),
    ("account", Ctx::BANK),
    ("acct", Ctx::BANK),
    ("a/c", Ctx::BANK),
    ("bank", Ctx::BANK),
    ("บัญชี", Ctx::BANK),
    ("帳號", Ctx::BANK),
    ("帳戶", Ctx::BANK),
    ("rekening", Ctx::BANK),
    ("norek", Ctx::BANK),
    // Date of birth.
    ("生年月日", Ctx::BIRTH),
    ("誕生日", Ctx::BIRTH),
    ("生まれ", Ctx::BIRTH),
    ("born", Ctx::BIRTH),
    ("bday", Ctx::BIRTH),
    ("birthday", Ctx::BIRTH),
    ("dob", Ctx::BIRTH),
    ("d.o.b", Ctx::BIRTH),
    ("birth", Ctx::BIRTH),
    ("วันเกิด", Ctx::BIRTH),
    ("เกิด", Ctx::BIRTH),
    ("出生", Ctx::BIRTH),
    ("生日", Ctx::BIRTH),
    ("lahir", Ctx::BIRTH),
    // Passport.
    ("passport", Ctx::PASSPORT),
    ("パスポート", Ctx::PASSPORT),
    ("旅券", Ctx::PASSPORT),
    ("護照", Ctx::PASSPORT),
    ("หนังสือเดินทาง", Ctx::PASSPORT),
    ("paspor", Ctx::PASSPORT),
    // Driver's licence.
    ("免許", Ctx::LICENSE),
    ("license", Ctx::LICENSE),
    ("licence", Ctx::LICENSE),
    ("駕照", Ctx::LICENSE),
    ("ใบขับขี่", Ctx::LICENSE),
    ("sim", Ctx::LICENSE),
    // IP.
    ("ip", Ctx::IP),
    ("server", Ctx::IP),
    ("dns", Ctx::IP),
    ("router", Ctx::IP),
    ("gateway", Ctx::IP),
    ("ping", Ctx::IP),
    ("ssh", Ctx::IP),
    ("サーバ", Ctx::IP),
    // Negative.
    ("注文", Ctx::NEGATIVE),
    ("order", Ctx::NEGATIVE),
    ("tracking", Ctx::NEGATIVE),
    ("追跡", Ctx::NEGATIVE),
    ("伝票", Ctx::NEGATIVE),
    ("問い合わせ番号", Ctx::NEGATIVE),
    ("お問合せ番号", Ctx::NEGATIVE),
    ("coupon", Ctx::NEGATIVE),
    ("クーポン", Ctx::NEGATIVE),
    ("promo", Ctx::NEGATIVE),
    ("version", Ctx::NEGATIVE),
    ("build", Ctx::NEGATIVE),
    ("firmware", Ctx::NEGATIVE),
    ("ビルド", Ctx::NEGATIVE),
    ("ファームウェア", Ctx::NEGATIVE),
    ("ver.", Ctx::NEGATIVE),
    ("versi", Ctx::NEGATIVE),
    ("เวอร์ชัน", Ctx::NEGATIVE),
    ("版本", Ctx::NEGATIVE),
    ("バージョン", Ctx::NEGATIVE),
    ("room", Ctx::NEGATIVE),
    ("部屋", Ctx::NEGATIVE),
    ("号室", Ctx::NEGATIVE),
    ("invoice", Ctx::NEGATIVE),
    ("請求", Ctx::NEGATIVE),
    ("ticket", Ctx::NEGATIVE),
    ("チケット", Ctx::NEGATIVE),
    ("予約番号", Ctx::NEGATIVE),
    ("受付番号", Ctx::NEGATIVE),
    ("会員番号", Ctx::NEGATIVE),
    ("商品", Ctx::NEGATIVE),
    ("型番", Ctx::NEGATIVE),
    ("serial", Ctx::NEGATIVE),
    ("シリアル", Ctx::NEGATIVE),
    ("isbn", Ctx::NEGATIVE),
    ("price", Ctx::NEGATIVE),
    ("円", Ctx::NEGATIVE),
    ("¥", Ctx::NEGATIVE),
    ("￥", Ctx::NEGATIVE),
    ("$", Ctx::NEGATIVE),
    ("baht", Ctx::NEGATIVE),
    ("บาท", Ctx::NEGATIVE),
    ("rp", Ctx::NEGATIVE),
    ("nt$", Ctx::NEGATIVE),
    ("元", Ctx::NEGATIVE),
    ("訂單", Ctx::NEGATIVE),
    ("订单", Ctx::NEGATIVE),
    ("受注", Ctx::NEGATIVE),
    ("問合せ番号", Ctx::NEGATIVE),
    ("주문", Ctx::NEGATIVE),
    ("เลขพัสดุ", Ctx::NEGATIVE),
    ("คำสั่งซื้อ", Ctx::NEGATIVE),
    ("pesanan", Ctx::NEGATIVE),
    ("resi", Ctx::NEGATIVE),
    ("kupon", Ctx::NEGATIVE),
    ("单号", Ctx::NEGATIVE),
    ("운송장", Ctx::NEGATIVE),
    ("đơn hàng", Ctx::NEGATIVE),
];

/// Labels that name the number right after them as an order, tracking, reservation or
/// invoice number: a number after one is the label's, whatever its shape (`注文番号：
/// 0312345678`), unless it passes a card's or My Number's check. Compared ASCII
/// case-insensitively. Not the bare words 注文/訂單/订单: `ご注文は090-1234-5678まで` gives a
/// phone number.
/// INVARIANT: each label contains a `Ctx::NEGATIVE` word of `WORDS` (numeric.rs asks for a
/// label only where one is around); a test checks it.
const ORDER_LABELS: &[&str] = &[
    "注文番号",
    "受注番号",
    "追跡番号",
    "伝票番号",
    "問い合わせ番号",
    "問合せ番号",
    "予約番号",
    "受付番号",
    "請求書番号",
    "order number",
    "order no",
    "order id",
    "order",
    "tracking number",
    "tracking no",
    "tracking",
    "invoice no",
    "invoice number",
    "invoice",
    "訂單編號",
    "訂單號碼",
    "订单号",
    "订单编号",
    "주문번호",
    "คำสั่งซื้อ",
    "เลขพัสดุ",
    "nomor pesanan",
    "no. pesanan",
    "no pesanan",
    "pesanan",
    "no. resi",
    "resi",
];

/// What may stand between an order label and its number.
const LABEL_PUNCTUATION: [char; 10] = [' ', '\u{3000}', ':', '：', '#', '＃', '=', '＝', 'は', '№'];
const LABEL_SUFFIXES: [&str; 8] = ["No.", "no.", "NO.", "No", "no", "ｎｏ．", "No．", "Nr."];

/// Whether an order label ends right before `start`, with only label punctuation (`:`, `#`,
/// `No.`, `は`, spaces) between. Asked only where a negative word is around and a span would
/// be reported, so it needs no table of its own to turn most numbers away fast.
pub(crate) fn order_label_before(text: &str, start: usize) -> bool {
    let Some(before) = text.get(..start) else {
        return false;
    };
    let mut t = before.trim_end_matches(LABEL_PUNCTUATION);
    // "Order No. 123", "注文No．", "order number: 123".
    for suffix in LABEL_SUFFIXES {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.trim_end_matches([' ', '\u{3000}', '.']);
            break;
        }
    }
    let Some(&last) = t.as_bytes().last() else {
        return false;
    };
    ORDER_LABELS.iter().any(|label| {
        let n = label.len();
        // One byte turns most labels away before a comparison.
        label.as_bytes()[n - 1].eq_ignore_ascii_case(&last)
            && t.len() >= n
            && t.is_char_boundary(t.len() - n)
            && t[t.len() - n..].eq_ignore_ascii_case(label)
            && (!label.is_ascii() || !t[..t.len() - n].ends_with(|c: char| c.is_ascii_alphanumeric()))
    })
}

/// How far around a candidate context words count, in bytes (about 30 Japanese or Thai
/// characters or 90 Latin ones before, a third of that after).
const BEFORE: usize = 90;
const AFTER: usize = 30;
/// The near window, for choosing between two types whose words are both around.
const NEAR: usize = 30;

#[derive(Debug)]
pub(crate) struct Context {
    words: AhoCorasick,
}

impl Context {
    pub(crate) fn new() -> Context {
        let words = AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(WORDS.iter().map(|(w, _)| w))
            .unwrap_or_else(|_| unreachable!("the context word list is a valid, small pattern set"));
        Context { words }
    }

    /// The context classes of the words in the window around `text[start..end]`.
    #[cfg(test)]
    pub(crate) fn around(&self, text: &str, start: usize, end: usize) -> Ctx {
        TextContext::new(self, text).around(start, end)
    }

    /// Every context word of `text` with its position, in order of start. Matches do not
    /// overlap (the longest wins where words nest, マイナンバー over マイナ), which is one
    /// cheaper pass than reporting every overlap. Short Latin words count only as whole words
    /// ("tel" in "hotel" does not).
    fn hits(&self, text: &str) -> Vec<Hit> {
        let b = text.as_bytes();
        self.words
            .find_iter(text)
            .filter_map(|m| {
                let (w, ctx) = WORDS[m.pattern().as_usize()];
                if w.is_ascii() && w.len() <= 4 {
                    let left_ok = m.start() == 0 || !b[m.start() - 1].is_ascii_alphabetic();
                    let right_ok = m.end() == b.len() || !b[m.end()].is_ascii_alphabetic();
                    if !(left_ok && right_ok) {
                        return None;
                    }
                }
                Some(Hit {
                    start: m.start(),
                    end: m.end(),
                    ctx,
                })
            })
            .collect()
    }
}

/// One context word found in a text.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    ctx: Ctx,
}

/// The context words of one text, found in one pass on first use and then looked up per
/// candidate: a line holds several candidates whose windows overlap, and scanning each
/// window again cost more than the rest of detection.
#[derive(Debug)]
pub(crate) struct TextContext<'a> {
    context: &'a Context,
    text: &'a str,
    hits: std::cell::OnceCell<Vec<Hit>>,
}

impl<'a> TextContext<'a> {
    pub(crate) fn new(context: &'a Context, text: &'a str) -> Self {
        TextContext {
            context,
            text,
            hits: std::cell::OnceCell::new(),
        }
    }

    /// The context classes of the words in the window around `text[start..end]`.
    pub(crate) fn around(&self, start: usize, end: usize) -> Ctx {
        self.within(floor(self.text, start.saturating_sub(BEFORE)), start)
            .union(self.within(end, ceil(self.text, end + AFTER)))
    }

    /// The context classes in the near window before `start` (for a label such as `DOB:`).
    pub(crate) fn near(&self, start: usize) -> Ctx {
        self.within(floor(self.text, start.saturating_sub(NEAR)), start)
    }

    /// The classes of the words lying wholly inside `from..to`.
    fn within(&self, from: usize, to: usize) -> Ctx {
        let hits = self.hits.get_or_init(|| self.context.hits(self.text));
        let first = hits.partition_point(|h| h.start < from);
        hits[first..]
            .iter()
            .take_while(|h| h.start < to)
            .filter(|h| h.end <= to)
            .fold(Ctx::default(), |ctx, h| ctx.union(h.ctx))
    }
}

/// The largest char boundary at or below `i`.
pub(crate) fn floor(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest char boundary at or above `i`.
pub(crate) fn ceil(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_around_are_found_and_short_latin_words_need_boundaries() {
        let c = Context::new();
        let t = "携帯は 090 です";
        assert!(c.around(t, 10, 13).has(Ctx::PHONE));
        let t = "hotel 0312345678";
        assert!(!c.around(t, 6, t.len()).has(Ctx::PHONE));
        let t = "Tel: 0312345678";
        assert!(c.around(t, 5, t.len()).has(Ctx::PHONE));
        let t = "注文番号 123456789012";
        assert!(c.around(t, 13, t.len()).has(Ctx::NEGATIVE));
    }

    #[test]
    fn every_order_label_is_a_negative_context() {
        let c = Context::new();
        for label in ORDER_LABELS {
            let t = format!("{label} 0312345678");
            assert!(
                c.around(&t, label.len() + 1, t.len()).has(Ctx::NEGATIVE),
                "{label}"
            );
        }
    }

    #[test]
    fn order_labels_right_before_a_number() {
        for t in [
            "注文番号：",
            "ご注文番号は ",
            "Order #",
            "order no. ",
            "Order No.",
            "your order number: ",
            "訂單編號 ",
            "订单号：",
            "주문번호 ",
            "nomor pesanan: ",
            "注文番号No．",
        ] {
            assert!(order_label_before(t, t.len()), "{t:?}");
        }
        for t in [
            "電話 ",
            "in order to call ",
            "reorder ",
            "注文したら ",
            "tel: ",
            "ご注文は",
            "订单 ",
        ] {
            assert!(!order_label_before(t, t.len()), "{t:?}");
        }
    }
}
