-- case: fn-substr-left-right | as: cn_contractor | class: function-cast
SELECT user_id, substr(phone, 1, 4) AS p4, left(email, 3) AS e3, right(phone, 4) AS last4,
       substring(full_name FROM 2 FOR 3) AS mid
FROM users;

-- case: fn-reverse-translate-replace | as: cn_contractor | class: function-cast
SELECT reverse(phone), translate(phone, '0123456789', 'abcdefghij'),
       replace(email, '@', ' at '), reverse(reverse(full_name))
FROM users;

-- case: fn-regexp-replace-backrefs | as: cn_contractor | class: function-cast
SELECT regexp_replace(phone, '[^0-9]', '', 'g') AS digits,
       regexp_replace(email, '^(.*)@(.*)$', '\2 \1') AS swapped,
       regexp_replace(address, '(.)', '\1 ', 'g') AS spaced
FROM users;

-- case: fn-ascii-length-octets | as: cn_contractor | class: function-cast
SELECT user_id, ascii(phone), length(phone), octet_length(full_name), bit_length(email),
       character_length(address), chr(ascii(line_id))
FROM users;

-- case: fn-encode-hex-base64 | as: cn_contractor | class: function-cast
SELECT encode(phone::bytea, 'hex'), encode(CAST(email AS BYTEA), 'base64'),
       encode(full_name, 'hex'), CAST(CAST(address AS BYTEA) AS TEXT)
FROM users;

-- case: fn-split-part-strpos | as: cn_contractor | class: function-cast
SELECT split_part(email, '@', 1) AS local_part, split_part(email, '@', 2) AS domain,
       split_part(phone, '-', 2), strpos(email, '@'), position('-' IN phone),
       substr_index(email, '.', -1)
FROM users;

-- case: fn-pad-concat-case | as: cn_contractor | class: function-cast
SELECT lpad(phone, 30, '*'), rpad(email, 40, '.'), concat(full_name, ' <', email, '>'),
       concat_ws('|', line_id, display_name, full_name_kana), full_name || ' / ' || address,
       upper(email), lower(display_name), initcap(full_name)
FROM users;

-- case: fn-arrow-cast-string-types | as: cn_contractor | class: function-cast
SELECT arrow_typeof(phone), arrow_cast(phone, 'Utf8View'), arrow_cast(email, 'LargeUtf8'),
       arrow_cast(arrow_cast(full_name, 'Binary'), 'Utf8'),
       arrow_cast(line_id, 'Dictionary(Int32, Utf8)')
FROM users;

-- case: fn-char-by-char-reassembly | as: cn_contractor | class: function-cast
SELECT u.created_at,
       string_agg(chr(ascii(substr(u.phone, CAST(g.value AS INT), 1))), '' ORDER BY g.value) AS rebuilt
FROM users u CROSS JOIN generate_series(1, 20) AS g
GROUP BY u.created_at;

-- case: fn-hash-and-distance | as: cn_contractor | class: function-cast
SELECT user_id, md5(phone), sha256(email), digest(full_name, 'sha512'),
       levenshtein(phone, '090-0000-0001') AS distance_to_guess,
       levenshtein(email, 'taro.yamada@example.invalid')
FROM users;

-- case: fn-unnest-string-to-array | as: cn_contractor | class: function-cast
SELECT created_at, unnest(string_to_array(phone, '-')) AS piece,
       unnest(string_to_array(email, '@')) AS half
FROM users;

-- case: fn-coalesce-greatest-least | as: cn_contractor | class: function-cast
SELECT coalesce(nullif(phone, ''), email), greatest(phone, email, full_name),
       least(line_id, display_name), nvl2(full_name_kana, full_name_kana, full_name),
       CASE WHEN phone IS NOT NULL THEN phone ELSE email END
FROM users;

-- case: fn-cast-chains-varchar-char | as: cn_contractor | class: function-cast
SELECT CAST(CAST(phone AS VARCHAR(3)) AS TEXT), phone::char(40), email::varchar::bytea,
       CAST(address AS CHAR(2)), full_name::text::varchar
FROM users;

-- case: fn-struct-map-array | as: cn_contractor | class: function-cast
SELECT struct(phone, email), named_struct('p', phone, 'e', email, 'n', full_name),
       make_array(full_name, line_id, display_name), make_map('mail', email, 'tel', phone)
FROM users;

-- case: fn-dob-parts | as: cn_contractor | class: function-cast
SELECT user_id, birth_date, extract(day FROM birth_date) AS d, date_part('doy', birth_date) AS doy,
       to_char(birth_date, '%Y-%m-%d'), CAST(birth_date AS TIMESTAMP), birth_date + INTERVAL '1 day'
FROM users;

-- case: fn-card-digit-functions | as: cn_contractor | class: function-cast
SELECT payment_id, regexp_replace(card_number, '\D', '', 'g'), right(card_number, 8),
       left(card_number, 6), overlay(card_number PLACING 'x' FROM 1 FOR 0), reverse(card_number)
FROM payments;

-- case: fn-body-regexp-extract | as: cn_contractor | class: function-cast
SELECT message_id, sender_country, regexp_replace(body, '<[A-Z_]+>', '', 'g'),
       regexp_match(body, '[0-9０-９]{2,}[-ー－‐– ]?[0-9０-９]{3,}'), upper(body)
FROM messages WHERE sender_country = 'JP';

-- case: fn-jp-support-nonjp-substr | as: jp_support | class: function-cast
SELECT country, substr(phone, 1, 6), split_part(email, '@', 1), left(full_name, 2),
       reverse(line_id), regexp_replace(address, '\s', '', 'g'), upper(display_name)
FROM (SELECT u.country, u.phone, u.email, u.full_name, u.line_id, u.address, u.display_name
      FROM users u WHERE u.country <> 'JP') t;

-- case: fn-moderator-body-strip-tags | as: kr_moderator | class: function-cast
SELECT message_id, regexp_replace(body, '<[^>]*>', '', 'g'), substr(body, 1, 200),
       reverse(body), translate(body, '<>', '[]'), split_part(body, ' ', 3)
FROM messages;

-- case: fn-moderator-subject-key-casts | as: kr_moderator | class: function-cast
SELECT report_id, CAST(reporter_id AS TEXT) AS id_text, reported_user_id + 0 AS plus_zero,
       to_hex(reporter_id), reported_user_id % 1000000 AS low_digits, arrow_typeof(reporter_id)
FROM reports;

-- case: like-jp-mobile-prefixes | as: cn_contractor | class: like-range
SELECT user_id, created_at, country, phone FROM users
WHERE phone LIKE '090%' OR phone LIKE '080-%' OR phone LIKE '+81 90%' OR phone LIKE '０９０%';

-- case: like-ilike-email-domains | as: cn_contractor | class: like-range
SELECT user_id, email, full_name FROM users
WHERE email ILIKE '%@GMAIL.COM' OR email ILIKE '%docomo.ne.jp' OR email NOT ILIKE 'email_%';

-- case: like-range-email-bisect | as: cn_contractor | class: like-range
SELECT user_id, created_at, email FROM users
WHERE email >= 'm' AND email < 'n'
ORDER BY email;

-- case: like-between-phone | as: cn_contractor | class: like-range
SELECT user_id, created_at, phone FROM users
WHERE phone BETWEEN '090-0000-0000' AND '090-9999-9999'
   OR phone BETWEEN '08' AND '09';

-- case: like-similar-to-pattern | as: cn_contractor | class: like-range
SELECT user_id, phone FROM users
WHERE phone SIMILAR TO '0[789]0-[0-9]{4}-[0-9]{4}' OR phone SIMILAR TO '\+[0-9]+ %';

-- case: like-posix-regex-operators | as: cn_contractor | class: like-range
SELECT user_id, email, line_id FROM users
WHERE email ~ '^[a-z]+\.[a-z]+@' OR email ~* 'YAHOO' OR line_id ~ '_[0-9]+$'
   OR full_name !~ '^name_';

-- case: like-starts-ends-with | as: cn_contractor | class: like-range
SELECT user_id, full_name, phone, email FROM users
WHERE starts_with(phone, '0') OR ends_with(email, '.jp') OR starts_with(full_name, '佐藤')
   OR strpos(address, '東京都') = 1;

-- case: like-card-prefix-ranges | as: cn_contractor | class: like-range
SELECT payment_id, paid_at, amount, card_number FROM payments
WHERE card_number LIKE '4111%' OR card_number LIKE '5555 %'
   OR card_number BETWEEN '3530' AND '3531'
   OR (card_number >= '3782' AND card_number < '3783');

-- case: like-escape-clause | as: cn_contractor | class: like-range
SELECT user_id, line_id, display_name FROM users
WHERE line_id LIKE '%!_%' ESCAPE '!' OR line_id LIKE '%.%' OR display_name LIKE '%@仕事用';

-- case: like-postal-address-dob-range | as: cn_contractor | class: like-range
SELECT user_id, postal_code, address, birth_date FROM users
WHERE (postal_code >= '100' AND postal_code < '200') OR address LIKE '東京都%区%'
   OR birth_date BETWEEN DATE '1990-04-01' AND DATE '1990-04-30';

-- case: like-body-contact-patterns | as: cn_contractor | class: like-range
SELECT message_id, sender_id, body FROM messages
WHERE body LIKE '%@%' OR body ~ '0[789]0[-ー－]?[0-9]{4}' OR body ILIKE '%line id%';

-- case: like-email-in-list-guesses | as: cn_contractor | class: like-range
SELECT user_id, created_at, email FROM users
WHERE email IN ('taro.yamada@example.invalid', 'hanako.sato@example.invalid',
                'yuki.tanaka@example.invalid', 'somchai.k@example.invalid',
                'wei.chen@example.invalid', 'budi.santoso@example.invalid')
   OR email LIKE ANY (ARRAY['a%', 'b%', 'c%']);

-- case: like-jp-support-nonjp-prefix | as: jp_support | class: like-range
SELECT user_id, country, phone, email FROM users
WHERE country IN ('TH', 'TW', 'ID')
  AND (phone LIKE '08%' OR phone LIKE '09%' OR phone LIKE '+66%' OR phone LIKE '+886%'
       OR email LIKE '%@gmail.com' OR email LIKE '%yahoo.com.tw');

-- case: like-jp-support-nonjp-range | as: jp_support | class: like-range
SELECT user_id, created_at, full_name, email FROM users
WHERE country = 'TW' AND full_name >= 'C' AND full_name < 'D' AND email > 'w'
ORDER BY full_name;

-- case: like-moderator-body-phone | as: kr_moderator | class: like-range
SELECT message_id, sender_id, body FROM messages
WHERE body LIKE '%090-%' OR body ~ '[0-9]{3}-[0-9]{4}-[0-9]{4}' OR body ILIKE '%@gmail.com%';

-- case: like-moderator-report-range | as: kr_moderator | class: like-range
SELECT report_id, reason, body FROM reports
WHERE (body > 'http' AND body < 'https~') OR body SIMILAR TO '%[0-9]{10,}%'
   OR starts_with(body, '0');

-- case: order-phone-limit1-neighbours | as: cn_contractor | class: order-by
SELECT user_id, created_at, country, gender FROM users ORDER BY phone LIMIT 1;

-- case: order-email-desc-offset | as: cn_contractor | class: order-by
SELECT created_at, country, email FROM users
ORDER BY email DESC NULLS LAST
LIMIT 5 OFFSET 10;

-- case: order-by-ordinal | as: cn_contractor | class: order-by
SELECT full_name, address, user_id, created_at FROM users ORDER BY 1, 2 LIMIT 3;

-- case: order-by-derived-expressions | as: cn_contractor | class: order-by
SELECT created_at, country FROM users
ORDER BY right(phone, 4), length(email) DESC, substr(full_name, 2)
LIMIT 10;

-- case: order-card-topk | as: cn_contractor | class: order-by
SELECT payment_id, paid_at, amount, merchant FROM payments ORDER BY card_number ASC LIMIT 1;

-- case: order-nested-topk | as: cn_contractor | class: order-by
SELECT * FROM (
  SELECT user_id, phone, created_at FROM users ORDER BY phone LIMIT 20
) t
ORDER BY created_at
LIMIT 20;

-- case: order-dob-topk | as: cn_contractor | class: order-by
SELECT user_id, created_at, gender, country FROM users
ORDER BY birth_date DESC, postal_code, address
LIMIT 1;

-- case: order-by-case-bucket | as: cn_contractor | class: order-by
SELECT user_id, created_at FROM users
ORDER BY CASE WHEN phone < '08' THEN 0 WHEN phone < '09' THEN 1 ELSE 2 END, email
LIMIT 50;

-- case: order-jp-support-nonjp-phone | as: jp_support | class: order-by
SELECT created_at, country, user_id FROM users WHERE country = 'TH' ORDER BY phone LIMIT 3;

-- case: order-jp-support-body-topk | as: jp_support | class: order-by
SELECT m.message_id, m.sent_at, m.chat_id FROM messages m
WHERE m.sender_country <> 'JP'
ORDER BY m.body DESC
LIMIT 1;

-- case: order-moderator-body-sender | as: kr_moderator | class: order-by
SELECT message_id, sent_at, sender_country, chat_id FROM messages
ORDER BY body, sender_id, recipient_id
LIMIT 5;

-- case: group-by-phone-having | as: cn_contractor | class: group-distinct
SELECT phone, count(*) FROM users GROUP BY phone HAVING count(*) >= 1 ORDER BY phone LIMIT 20;

-- case: distinct-on-email | as: cn_contractor | class: group-distinct
SELECT DISTINCT ON (email) email, user_id, created_at FROM users ORDER BY email, created_at;

-- case: count-distinct-many | as: cn_contractor | class: group-distinct
SELECT count(DISTINCT phone), count(DISTINCT email), count(DISTINCT full_name),
       count(DISTINCT address), count(DISTINCT (phone, email))
FROM users;

-- case: group-by-email-domain | as: cn_contractor | class: group-distinct
SELECT split_part(email, '@', 2) AS domain, count(*), array_agg(DISTINCT left(email, 2))
FROM users
GROUP BY 1
ORDER BY 2 DESC;

-- case: group-by-grouping-sets | as: cn_contractor | class: group-distinct
SELECT country, gender, full_name, line_id, count(*) FROM users
GROUP BY GROUPING SETS ((country), (gender), (full_name), (line_id, country));

-- case: group-by-rollup-card | as: cn_contractor | class: group-distinct
SELECT currency, card_number, sum(amount), grouping(card_number) FROM payments
GROUP BY ROLLUP (currency, card_number);

-- case: distinct-address-postal-dob | as: cn_contractor | class: group-distinct
SELECT DISTINCT address, postal_code, birth_date FROM users;

-- case: group-cube-singling-out | as: cn_contractor | class: group-distinct
SELECT birth_date, postal_code, gender, count(*) AS n FROM users
GROUP BY CUBE (birth_date, postal_code, gender)
HAVING count(*) = 1;

-- case: group-jp-support-nonjp-email | as: jp_support | class: group-distinct
SELECT country, email, phone, count(*) FROM users
WHERE country <> 'JP'
GROUP BY country, email, phone
HAVING count(*) > 0;

-- case: distinct-jp-support-card | as: jp_support | class: group-distinct
SELECT DISTINCT country, card_number FROM payments WHERE country IN ('TH', 'TW', 'ID');

-- case: group-moderator-body | as: kr_moderator | class: group-distinct
SELECT body, count(*) AS n, count(DISTINCT reporter_id) FROM reports
GROUP BY body
ORDER BY n DESC
LIMIT 20;

-- case: agg-min-max-everything | as: cn_contractor | class: aggregate-stats
SELECT min(phone), max(phone), min(email), max(email), min(full_name), max(address),
       min(line_id), max(display_name), min(full_name_kana), max(postal_code)
FROM users;

-- case: agg-approx-distinct-median | as: cn_contractor | class: aggregate-stats
SELECT approx_distinct(phone), approx_distinct(email), approx_median(length(phone)),
       median(length(email)), approx_distinct(card) FROM
  (SELECT u.phone, u.email, p.card_number AS card FROM users u JOIN payments p USING (user_id)) t;

-- case: agg-approx-percentile | as: cn_contractor | class: aggregate-stats
SELECT approx_percentile_cont(0.5) WITHIN GROUP (ORDER BY length(full_name)),
       approx_percentile_cont(0.99) WITHIN GROUP (ORDER BY ascii(phone)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY octet_length(address))
FROM users;

-- case: agg-array-agg-ordered | as: cn_contractor | class: aggregate-stats
SELECT array_agg(phone ORDER BY created_at), array_agg(DISTINCT email),
       array_agg(full_name) FILTER (WHERE country = 'JP')
FROM users;

-- case: agg-string-agg-cards | as: cn_contractor | class: aggregate-stats
SELECT country, string_agg(card_number, ';' ORDER BY paid_at) FROM payments GROUP BY country;

-- case: agg-first-last-nth | as: cn_contractor | class: aggregate-stats
SELECT first_value(email ORDER BY email), last_value(phone ORDER BY phone),
       nth_value(full_name, 2 ORDER BY full_name), first_value(address ORDER BY created_at)
FROM users;

-- case: agg-numeric-over-text | as: cn_contractor | class: aggregate-stats
SELECT bool_and(phone IS NOT NULL), bit_xor(length(phone)), sum(ascii(email)),
       avg(length(address)), stddev(length(full_name)), var_pop(ascii(phone)),
       corr(length(phone), length(email))
FROM users;

-- case: agg-count-denied-column | as: cn_contractor | class: aggregate-stats
SELECT count(*), count(phone), count(my_number), count(DISTINCT my_number) FROM users;

-- case: agg-min-max-per-currency | as: cn_contractor | class: aggregate-stats
SELECT currency, min(card_number), max(card_number), min(amount), max(paid_at)
FROM payments
GROUP BY currency;

-- case: agg-dob-min-max-by-country | as: cn_contractor | class: aggregate-stats
SELECT country, min(birth_date), max(birth_date), min(postal_code), max(address)
FROM users
GROUP BY country;

-- case: agg-jp-support-minmax-nonjp | as: jp_support | class: aggregate-stats
SELECT country, min(phone), max(phone), min(email), max(full_name), array_agg(line_id)
FROM users
WHERE country <> 'JP'
GROUP BY country;

-- case: agg-moderator-body-agg | as: kr_moderator | class: aggregate-stats
SELECT min(body), max(body), string_agg(body, ' || '), array_agg(DISTINCT sender_id)
FROM messages;

-- case: agg-moderator-reports-minmax-ids | as: kr_moderator | class: aggregate-stats
SELECT reason, min(reporter_id), max(reported_user_id), min(body), max(body),
       approx_distinct(reported_user_id)
FROM reports
GROUP BY reason;

-- case: win-row-number-phone | as: cn_contractor | class: window
SELECT user_id, created_at, row_number() OVER (ORDER BY phone) AS rn
FROM users
ORDER BY rn
LIMIT 10;

-- case: win-lag-lead | as: cn_contractor | class: window
SELECT user_id, lag(phone) OVER (ORDER BY created_at),
       lead(email, 1, 'none') OVER (ORDER BY created_at),
       lag(full_name, 2) OVER (PARTITION BY country ORDER BY created_at)
FROM users;

-- case: win-rank-partition-email | as: cn_contractor | class: window
SELECT created_at,
       rank() OVER (PARTITION BY split_part(email, '@', 2) ORDER BY email),
       dense_rank() OVER (ORDER BY full_name)
FROM users;

-- case: win-ntile-percent-rank | as: cn_contractor | class: window
SELECT created_at, ntile(600) OVER (ORDER BY phone), percent_rank() OVER (ORDER BY email),
       cume_dist() OVER (ORDER BY address)
FROM users;

-- case: win-first-last-nth-named | as: cn_contractor | class: window
SELECT DISTINCT country, first_value(phone) OVER w, last_value(email) OVER w,
       nth_value(full_name, 3) OVER w
FROM users
WINDOW w AS (PARTITION BY country ORDER BY phone
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);

-- case: win-agg-over-partition | as: cn_contractor | class: window
SELECT user_id, min(phone) OVER (PARTITION BY country), max(email) OVER (PARTITION BY gender),
       count(*) OVER (PARTITION BY phone)
FROM users;

-- case: win-card-running-array | as: cn_contractor | class: window
SELECT payment_id, array_agg(card_number) OVER (PARTITION BY user_id ORDER BY paid_at)
FROM payments;

-- case: win-row-number-top-per-country | as: cn_contractor | class: window
SELECT * FROM (
  SELECT created_at, country,
         row_number() OVER (PARTITION BY country ORDER BY email) AS rn
  FROM users
) t
WHERE rn = 1;

-- case: win-key-gaps | as: cn_contractor | class: window
SELECT created_at, user_id - lag(user_id) OVER (ORDER BY created_at) AS gap,
       max(user_id) OVER () AS top_key
FROM users;

-- case: win-range-frame-dob | as: cn_contractor | class: window
SELECT user_id, count(*) OVER (ORDER BY birth_date
                               RANGE BETWEEN INTERVAL '1 day' PRECEDING AND CURRENT ROW) AS near
FROM users;

-- case: win-jp-support-neighbour-rows | as: jp_support | class: window
SELECT country, created_at, lag(phone) OVER (ORDER BY created_at) AS prev_phone,
       lead(email) OVER (ORDER BY created_at) AS next_email,
       first_value(full_name) OVER (PARTITION BY gender ORDER BY country DESC) AS first_name
FROM users
WHERE country IN ('JP', 'TH');

-- case: win-moderator-body-lag | as: kr_moderator | class: window
SELECT message_id, chat_id, lag(body) OVER (PARTITION BY chat_id ORDER BY sent_at),
       row_number() OVER (PARTITION BY sender_id ORDER BY body)
FROM messages;

-- case: join-self-phone | as: cn_contractor | class: join
SELECT a.user_id, b.user_id, a.phone, b.email FROM users a
JOIN users b ON a.phone = b.phone AND a.user_id <> b.user_id;

-- case: join-email-inside-body | as: cn_contractor | class: join
SELECT u.email, m.message_id, m.body FROM users u
JOIN messages m ON strpos(m.body, u.email) > 0;

-- case: join-phone-like-body | as: cn_contractor | class: join
SELECT u.user_id, u.phone, m.message_id FROM users u
JOIN messages m ON m.body LIKE '%' || u.phone || '%';

-- case: join-card-guess-values | as: cn_contractor | class: join
SELECT p.payment_id, p.paid_at, p.card_number FROM payments p
JOIN (VALUES ('4111'), ('5555'), ('3530 11'), ('3782')) AS v(prefix)
  ON left(p.card_number, length(v.prefix)) = v.prefix;

-- case: join-users-payments-using | as: cn_contractor | class: join
SELECT u.full_name, u.phone, p.card_number, p.amount FROM users u
JOIN payments p USING (user_id)
WHERE p.amount > 10000;

-- case: join-sender-recipient-directory | as: cn_contractor | class: join
SELECT m.message_id, s.email AS sender_email, r.email AS recipient_email, r.phone
FROM messages m
JOIN users s ON s.user_id = m.sender_id
JOIN users r ON r.user_id = m.recipient_id
LIMIT 100;

-- case: join-lateral-unnest | as: cn_contractor | class: join
SELECT u.created_at, x.part FROM users u
CROSS JOIN LATERAL unnest(string_to_array(u.email, '@')) AS x(part);

-- case: join-full-outer-on-values | as: cn_contractor | class: join
SELECT * FROM (SELECT phone AS k, user_id FROM users) a
FULL OUTER JOIN (SELECT card_number AS k, payment_id FROM payments) b USING (k);

-- case: join-nonequi-range | as: cn_contractor | class: join
SELECT a.created_at, b.created_at FROM users a
JOIN users b ON a.email < b.email AND b.email < a.email || 'a'
LIMIT 100;

-- case: join-natural-reports-messages | as: cn_contractor | class: join
SELECT * FROM reports NATURAL JOIN messages;

-- case: join-jp-support-cross-jurisdiction | as: jp_support | class: join
SELECT j.full_name AS jp_name, o.full_name AS other_name, o.phone, o.email, o.country
FROM users j
JOIN users o ON j.email = o.email OR j.phone = o.phone OR j.full_name = o.full_name
WHERE j.country = 'JP' AND o.country <> 'JP';

-- case: join-jp-support-recipient-body | as: jp_support | class: join
SELECT m.message_id, m.body, u.country FROM messages m
JOIN users u ON u.user_id = m.recipient_id
WHERE m.sender_country = 'JP' AND u.country <> 'JP';

-- case: join-moderator-reports-messages | as: kr_moderator | class: join
SELECT r.report_id, r.body AS report_body, m.body AS message_body, m.sender_id,
       r.reported_user_id
FROM reports r
JOIN messages m ON m.message_id = r.message_id;

-- case: join-moderator-body-equality | as: kr_moderator | class: join
SELECT r.report_id, m.message_id, m.sender_country FROM reports r
JOIN messages m ON r.body = m.body OR r.reported_user_id = m.sender_id;

-- case: sub-in-card-prefix | as: cn_contractor | class: subquery-cte
SELECT full_name, phone FROM users
WHERE user_id IN (SELECT user_id FROM payments WHERE card_number LIKE '4111%');

-- case: sub-scalar-correlated | as: cn_contractor | class: subquery-cte
SELECT u.user_id,
       (SELECT max(p.card_number) FROM payments p WHERE p.user_id = u.user_id) AS card,
       (SELECT count(*) FROM messages m WHERE m.body LIKE '%' || u.phone || '%') AS mentions
FROM users u
LIMIT 50;

-- case: sub-exists-prefix-guesses | as: cn_contractor | class: subquery-cte
SELECT created_at, country FROM users u
WHERE EXISTS (SELECT 1 FROM (VALUES ('090'), ('080'), ('070'), ('+81')) g(p)
              WHERE u.phone LIKE g.p || '%');

-- case: cte-recursive-char-walk | as: cn_contractor | class: subquery-cte
WITH RECURSIVE r(uid, i, ch) AS (
  SELECT user_id, 1, substr(phone, 1, 1) FROM users
  UNION ALL
  SELECT r.uid, r.i + 1, substr(u.phone, r.i + 1, 1)
  FROM r JOIN users u ON u.user_id = r.uid
  WHERE r.i < 20
)
SELECT uid, string_agg(ch, '' ORDER BY i) FROM r GROUP BY uid;

-- case: cte-materialized-rename | as: cn_contractor | class: subquery-cte
WITH contacts(who, tel, mail) AS MATERIALIZED (
  SELECT full_name, phone, email FROM users
)
SELECT * FROM contacts c1 WHERE tel IN (SELECT tel FROM contacts);

-- case: cte-shadows-table-name | as: cn_contractor | class: subquery-cte
WITH users AS (
  SELECT user_id, phone, email, full_name, 'JP' AS country FROM kamei.public.users
)
SELECT * FROM users;

-- case: sub-any-array | as: cn_contractor | class: subquery-cte
SELECT user_id, created_at FROM users
WHERE phone = ANY (SELECT card_number FROM payments)
   OR email = ANY (ARRAY['a@example.invalid', 'b@example.invalid'])
   OR full_name <> ALL (SELECT full_name FROM users WHERE country = 'TH');

-- case: sub-data-modifying-cte | as: cn_contractor | class: subquery-cte
WITH moved AS (
  UPDATE users SET country = 'CN' RETURNING user_id, phone, email
)
SELECT * FROM moved;

-- case: sub-correlated-body-agg | as: cn_contractor | class: subquery-cte
SELECT u.created_at,
       (SELECT string_agg(m.body, ' ') FROM messages m WHERE m.sender_id = u.user_id) AS said
FROM users u
WHERE u.country = 'JP'
LIMIT 20;

-- case: sub-jp-support-in-nonjp | as: jp_support | class: subquery-cte
SELECT phone, email, full_name FROM users
WHERE user_id IN (SELECT recipient_id FROM messages WHERE sender_country = 'JP')
  AND country <> 'JP';

-- case: sub-jp-support-pseudonym-lookup | as: jp_support | class: subquery-cte
SELECT user_id, phone, email, address FROM users
WHERE user_id = (SELECT user_id FROM users WHERE country = 'TH' ORDER BY created_at LIMIT 1);

-- case: sub-moderator-nested-cte | as: kr_moderator | class: subquery-cte
WITH flagged AS (
  SELECT message_id, reported_user_id FROM reports WHERE reason IS NOT NULL
), bodies AS (
  SELECT m.message_id, m.body, m.sender_id, m.recipient_id FROM messages m
  WHERE m.message_id IN (SELECT message_id FROM flagged)
)
SELECT * FROM bodies;

-- case: union-sort-against-guess | as: cn_contractor | class: union
SELECT phone, 'row' AS src FROM users
UNION
SELECT '090-0000-0001', 'guess'
ORDER BY 1
LIMIT 20;

-- case: intersect-guessed-phones | as: cn_contractor | class: union
SELECT phone FROM users
INTERSECT
SELECT p FROM (VALUES ('090-1234-5678'), ('080-1111-2222'), ('09012345678'),
                      ('+81 90-1234-5678'), ('081-234-5678')) AS g(p);

-- case: except-jp-emails | as: cn_contractor | class: union
SELECT email FROM users
EXCEPT
SELECT email FROM users WHERE country = 'JP';

-- case: union-all-every-column | as: cn_contractor | class: union
SELECT full_name AS v, 'name' AS kind FROM users
UNION ALL SELECT address, 'addr' FROM users
UNION ALL SELECT line_id, 'line' FROM users
UNION ALL SELECT card_number, 'card' FROM payments
UNION ALL SELECT body, 'msg' FROM messages;

-- case: union-type-coercion | as: cn_contractor | class: union
SELECT CAST(user_id AS TEXT) AS v FROM users
UNION SELECT phone FROM users
UNION SELECT CAST(birth_date AS TEXT) FROM users
UNION SELECT postal_code FROM users;

-- case: intersect-email-body | as: cn_contractor | class: union
SELECT email FROM users
INTERSECT ALL
SELECT body FROM messages
UNION
SELECT card_number FROM payments INTERSECT SELECT phone FROM users;

-- case: union-jp-support-interleave | as: jp_support | class: union
SELECT phone, country FROM users WHERE country = 'JP'
UNION ALL
SELECT phone, country FROM users WHERE country <> 'JP'
ORDER BY phone
LIMIT 40;

-- case: intersect-jp-support-raw-vs-pseudonym | as: jp_support | class: union
SELECT email FROM users WHERE country <> 'JP'
INTERSECT
SELECT email FROM users WHERE country = 'JP'
UNION ALL
SELECT full_name FROM users WHERE country = 'ID'
EXCEPT
SELECT full_name FROM users WHERE country = 'JP';

-- case: union-moderator-bodies | as: kr_moderator | class: union
SELECT body FROM messages
UNION
SELECT body FROM reports
EXCEPT
SELECT body FROM messages WHERE sender_country = 'JP';

-- case: union-values-scalar-subquery | as: cn_contractor | class: union
VALUES ((SELECT max(phone) FROM users)), ((SELECT min(email) FROM users)),
       ((SELECT max(card_number) FROM payments))
UNION ALL
SELECT full_name FROM users WHERE country = 'TW';

-- case: explain-plain-filter | as: cn_contractor | class: explain
EXPLAIN SELECT phone FROM users WHERE phone = '090-0000-0001';

-- case: explain-analyze-minmax | as: cn_contractor | class: explain
EXPLAIN ANALYZE SELECT min(phone), max(email) FROM users;

-- case: explain-verbose-topk | as: cn_contractor | class: explain
EXPLAIN VERBOSE SELECT card_number FROM payments ORDER BY card_number LIMIT 1;

-- case: explain-format-tree | as: cn_contractor | class: explain
EXPLAIN FORMAT tree SELECT email, full_name FROM users WHERE email LIKE 'a%';

-- case: explain-pg-options-json | as: cn_contractor | class: explain
EXPLAIN (ANALYZE, VERBOSE, COSTS, BUFFERS, FORMAT JSON)
SELECT full_name FROM users WHERE full_name LIKE '佐%';

-- case: explain-leading-comment-lowercase | as: cn_contractor | class: explain
/* just a comment */   explain   analyze verbose
select phone, email from users where phone > '0';

-- case: describe-users | as: cn_contractor | class: explain
DESCRIBE users;

-- case: explain-jp-support-analyze-join | as: jp_support | class: explain
EXPLAIN ANALYZE SELECT u.phone FROM users u JOIN payments p ON u.user_id = p.user_id
WHERE u.country = 'TH';

-- case: explain-moderator-body | as: kr_moderator | class: explain
EXPLAIN VERBOSE SELECT body FROM reports WHERE body LIKE '%@%';

-- case: cat-information-schema-columns | as: cn_contractor | class: catalog
SELECT table_name, column_name, data_type, column_default
FROM information_schema.columns
WHERE table_name = 'users';

-- case: cat-information-schema-tables | as: cn_contractor | class: catalog
SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables;

-- case: cat-pg-class-attribute | as: cn_contractor | class: catalog
SELECT c.relname, a.attname, a.atttypid
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
WHERE c.relname = 'users';

-- case: cat-pg-stats | as: cn_contractor | class: catalog
SELECT attname, most_common_vals, histogram_bounds, n_distinct
FROM pg_stats
WHERE tablename IN ('users', 'payments');

-- case: cat-pg-statistic | as: cn_contractor | class: catalog
SELECT starelid, staattnum, stavalues1, stavalues2 FROM pg_catalog.pg_statistic;

-- case: cat-pg-settings | as: cn_contractor | class: catalog
SELECT name, setting, source FROM pg_settings;

-- case: cat-show-all | as: cn_contractor | class: catalog
SHOW ALL;

-- case: cat-show-tables | as: cn_contractor | class: catalog
SHOW TABLES;

-- case: cat-df-settings | as: cn_contractor | class: catalog
SELECT name, value FROM information_schema.df_settings
WHERE name LIKE '%statistics%' OR name LIKE '%filter%' OR name LIKE '%catalog%';

-- case: cat-psql-describe-query | as: cn_contractor | class: catalog
SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d
        WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef)
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = 'users'::regclass AND a.attnum > 0 AND NOT a.attisdropped;

-- case: cat-moderator-show-columns-users | as: kr_moderator | class: catalog
SHOW COLUMNS FROM users;

-- case: cat-moderator-pg-tables | as: kr_moderator | class: catalog
SELECT schemaname, tablename FROM pg_catalog.pg_tables
UNION ALL
SELECT table_schema, table_name FROM information_schema.tables;

-- case: cat-jp-support-views-routines | as: jp_support | class: catalog
SELECT table_name, view_definition FROM information_schema.views
UNION ALL
SELECT routine_name, routine_definition FROM information_schema.routines;

-- case: cursor-declare-fetch-close | as: cn_contractor | class: cursor
BEGIN;
DECLARE c CURSOR FOR SELECT phone, email FROM users;
FETCH 10 FROM c;
CLOSE c;
COMMIT;

-- case: cursor-scroll-with-hold | as: cn_contractor | class: cursor
DECLARE c SCROLL CURSOR WITH HOLD FOR SELECT full_name, address FROM users ORDER BY full_name;
FETCH LAST FROM c;
FETCH ABSOLUTE 1 FROM c;

-- case: cursor-over-insert-returning | as: cn_contractor | class: cursor
DECLARE c CURSOR FOR INSERT INTO users (user_id, phone) VALUES (1, 'x') RETURNING phone;
FETCH ALL FROM c;

-- case: cursor-binary | as: cn_contractor | class: cursor
DECLARE c BINARY CURSOR FOR SELECT card_number FROM payments;
FETCH FORWARD ALL IN c;

-- case: cursor-fetch-table-name | as: cn_contractor | class: cursor
FETCH ALL FROM users;

-- case: cursor-move-then-fetch | as: cn_contractor | class: cursor
BEGIN;
DECLARE c NO SCROLL CURSOR FOR SELECT email FROM users ORDER BY email;
MOVE FORWARD 5 IN c;
FETCH NEXT FROM c;
END;

-- case: cursor-declare-alone | as: cn_contractor | class: cursor
DECLARE leak CURSOR FOR SELECT phone, full_name FROM users WHERE country = 'JP';

-- case: cursor-moderator-users | as: kr_moderator | class: cursor
DECLARE c CURSOR FOR SELECT full_name, phone FROM users;
FETCH ALL c;

-- case: cursor-jp-support-nonjp | as: jp_support | class: cursor
BEGIN;
DECLARE c CURSOR FOR SELECT phone, email FROM users WHERE country <> 'JP';
FETCH ALL FROM c;
COMMIT;

-- case: multi-select-set-role-select | as: cn_contractor | class: multi-statement
SELECT phone FROM users LIMIT 1; RESET SESSION AUTHORIZATION; SET ROLE TO 'admin';
SELECT phone, email FROM users LIMIT 1

-- case: multi-select-then-external-table | as: cn_contractor | class: multi-statement
SELECT 1;
CREATE EXTERNAL TABLE raw_users STORED AS PARQUET LOCATION '/tmp/';
SELECT phone, email FROM raw_users;

-- case: multi-select-then-copy-file | as: cn_contractor | class: multi-statement
SELECT 1; COPY users TO '/tmp/kamei-leak-users.csv';

-- case: multi-create-view-then-select | as: cn_contractor | class: multi-statement
CREATE VIEW v AS SELECT phone, email FROM users; SELECT * FROM v;

-- case: multi-semicolon-in-literal | as: cn_contractor | class: multi-statement
SELECT 'a;b' AS x; SELECT phone FROM users WHERE ';' = ';';

-- case: multi-semicolon-after-line-comment | as: cn_contractor | class: multi-statement
SELECT 1 -- harmless
; SELECT email, full_name FROM users

-- case: multi-begin-set-local | as: cn_contractor | class: multi-statement
BEGIN; SET LOCAL kamei.principal = 'admin'; SELECT full_name FROM users; COMMIT;

-- case: multi-insert-then-select | as: cn_contractor | class: multi-statement
INSERT INTO payments (payment_id, user_id, card_number) SELECT 1, user_id, phone FROM users;
SELECT card_number FROM payments;

-- case: multi-prepare-execute | as: cn_contractor | class: multi-statement
PREPARE leak(TEXT) AS SELECT full_name, email FROM users WHERE phone LIKE $1;
EXECUTE leak('0%');
DEALLOCATE leak;

-- case: multi-jp-support-relabel-country | as: jp_support | class: multi-statement
UPDATE users SET country = 'JP' WHERE country <> 'JP';
SELECT user_id, phone, email, full_name FROM users WHERE country = 'JP';

-- case: multi-jp-support-ctas | as: jp_support | class: multi-statement
CREATE TABLE mine AS SELECT user_id, phone, email, 'JP' AS country FROM users WHERE country = 'TH';
SELECT * FROM mine;

-- case: multi-moderator-empty-statements | as: kr_moderator | class: multi-statement
;;; SELECT body FROM messages;;; SELECT full_name FROM users;;

-- case: quote-comments-between-tokens | as: cn_contractor | class: comment-quoting
SELECT/**/phone/**/,/**/email/**/FROM/**/users/**/WHERE/**/phone/**/>/**/'0';

-- case: quote-comment-splits-identifier | as: cn_contractor | class: comment-quoting
SELECT ph/**/one, em/* x */ail FROM users;

-- case: quote-double-quoted-upper-table | as: cn_contractor | class: comment-quoting
SELECT "phone", "email" FROM "USERS";

-- case: quote-mixed-case-identifiers | as: cn_contractor | class: comment-quoting
SELECT PHONE, Email, Full_Name, "full_name" FROM Users WHERE COUNTRY = 'JP';

-- case: quote-unicode-escape-identifiers | as: cn_contractor | class: comment-quoting
SELECT U&"ph\006Fne", U&"\0065mail", U&"full!005Fname" UESCAPE '!' FROM U&"\0075sers";

-- case: quote-nested-block-comment | as: cn_contractor | class: comment-quoting
SELECT /* outer /* inner */ still comment; SET ROLE admin; */ phone, email FROM users;

-- case: quote-dollar-quoted-semicolons | as: cn_contractor | class: comment-quoting
SELECT $$x$$ AS a, phone FROM users WHERE phone <> $tag$;SET ROLE admin;SELECT 1;$tag$;

-- case: quote-escape-strings | as: cn_contractor | class: comment-quoting
SELECT email, phone FROM users
WHERE email LIKE E'%\x40%' OR phone LIKE E'0\\%' ESCAPE '' OR full_name <> U&'\4F50';

-- case: quote-line-comment-hides-filter | as: cn_contractor | class: comment-quoting
SELECT full_name, address FROM users -- WHERE country = 'CN'
WHERE 1 = 1 -- ; SELECT my_number FROM users

-- case: quote-semicolon-in-quoted-alias | as: cn_contractor | class: comment-quoting
SELECT phone AS "x;SET ROLE admin;SELECT 1", email AS "--" FROM users;

-- case: quote-schema-qualified-variants | as: cn_contractor | class: comment-quoting
SELECT phone FROM kamei.public.users
UNION ALL SELECT phone FROM public.users
UNION ALL SELECT phone FROM "kamei"."public"."users"
UNION ALL SELECT phone FROM datafusion.public.users;

-- case: quote-backticks-mysql | as: cn_contractor | class: comment-quoting
SELECT `phone`, `email` FROM `users`;

-- case: quote-unterminated-comment | as: cn_contractor | class: comment-quoting
SELECT phone FROM users /* unterminated ; SELECT email FROM users

-- case: quote-moderator-qualified-users | as: kr_moderator | class: comment-quoting
SELECT "full_name", "phone" FROM "kamei"."public"."users"
UNION ALL SELECT full_name, phone FROM "Users";

-- case: quote-jp-support-quoted-self-join | as: jp_support | class: comment-quoting
SELECT "users"."phone" AS "JP", "u2"."email" AS "country", "u2"."phone"
FROM "users", "users" AS "u2"
WHERE "users"."country" = 'JP' AND "u2"."country" = /* not JP */ 'TW'
LIMIT 5;

-- case: copy-table-stdout | as: cn_contractor | class: copy
COPY users TO STDOUT;

-- case: copy-query-stdout-csv | as: cn_contractor | class: copy
COPY (SELECT phone, email FROM users) TO STDOUT WITH (FORMAT csv, HEADER true);

-- case: copy-table-to-file | as: cn_contractor | class: copy
COPY users (phone, email, full_name) TO '/tmp/kamei-leak-users-cols.csv';

-- case: copy-to-program | as: cn_contractor | class: copy
COPY (SELECT full_name FROM users) TO PROGRAM 'cat > /tmp/kamei-leak-prog.txt';

-- case: copy-from-stdin | as: cn_contractor | class: copy
COPY users FROM STDIN;

-- case: copy-stored-as-parquet | as: cn_contractor | class: copy
COPY (SELECT card_number FROM payments) TO '/tmp/kamei-leak-cards.parquet' STORED AS PARQUET;

-- case: copy-partitioned-by-card | as: cn_contractor | class: copy
COPY payments TO '/tmp/kamei-leak-part/' STORED AS CSV PARTITIONED BY (card_number);

-- case: copy-moderator-messages-binary | as: kr_moderator | class: copy
COPY messages TO STDOUT (FORMAT binary);

-- case: copy-jp-support-nonjp | as: jp_support | class: copy
COPY (SELECT phone, email FROM users WHERE country <> 'JP') TO STDOUT;

-- case: set-role-admin-select | as: cn_contractor | class: session-setting
SET ROLE admin; SELECT full_name, phone FROM users;

-- case: set-session-authorization | as: cn_contractor | class: session-setting
SET SESSION AUTHORIZATION admin; SELECT email, address FROM users;

-- case: reset-all-select | as: cn_contractor | class: session-setting
RESET ALL; RESET ROLE; SELECT phone FROM users;

-- case: set-dynamic-filter-pushdown | as: cn_contractor | class: session-setting
SET datafusion.optimizer.enable_dynamic_filter_pushdown = true;
SELECT user_id, created_at FROM users ORDER BY phone LIMIT 1;

-- case: set-collect-statistics | as: cn_contractor | class: session-setting
SET datafusion.execution.collect_statistics = true;
SELECT min(phone), max(email), count(DISTINCT full_name) FROM users;

-- case: set-kamei-principal | as: cn_contractor | class: session-setting
SET kamei.principal = 'admin'; SELECT phone FROM users;

-- case: set-search-path | as: cn_contractor | class: session-setting
SET search_path = raw, pg_catalog, public; SELECT phone FROM users;

-- case: set-application-name-show | as: cn_contractor | class: session-setting
SET application_name TO 'admin'; SHOW application_name; SHOW session_authorization;

-- case: set-config-function | as: cn_contractor | class: session-setting
SELECT set_config('kamei.principal', 'admin', false), current_setting('kamei.principal');
SELECT phone FROM users;

-- case: set-parquet-pushdown-filters | as: cn_contractor | class: session-setting
SET datafusion.execution.parquet.pushdown_filters = true;
SET datafusion.execution.parquet.reorder_filters = true;
SELECT count(*) FROM users WHERE phone LIKE '090%';

-- case: set-parser-dialect | as: cn_contractor | class: session-setting
SET datafusion.sql_parser.dialect = 'MySQL';
SELECT `phone` FROM `users`;

-- case: set-ident-normalization-off | as: cn_contractor | class: session-setting
SET datafusion.sql_parser.enable_ident_normalization = false;
SET datafusion.catalog.information_schema = true;
SELECT PHONE FROM USERS;

-- case: set-moderator-local-role | as: kr_moderator | class: session-setting
SET LOCAL ROLE admin; SET SESSION AUTHORIZATION DEFAULT; SELECT full_name FROM users;

-- case: set-jp-support-jurisdiction | as: jp_support | class: session-setting
SET kamei.country = 'TH'; SET kamei.jurisdiction = 'JP';
SELECT phone, email FROM users WHERE country = 'TH';

-- case: err-cast-phone-bigint | as: cn_contractor | class: error-echo
SELECT CAST(phone AS BIGINT) FROM users;

-- case: err-pg-cast-email-int | as: cn_contractor | class: error-echo
SELECT email::int FROM users;

-- case: err-cast-full-name-date | as: cn_contractor | class: error-echo
SELECT CAST(full_name AS DATE) FROM users;

-- case: err-to-timestamp-phone | as: cn_contractor | class: error-echo
SELECT to_timestamp(phone) FROM users;

-- case: err-to-date-email | as: cn_contractor | class: error-echo
SELECT to_date(email), to_date(address, '%Y-%m-%d') FROM users;

-- case: err-arrow-cast-int64 | as: cn_contractor | class: error-echo
SELECT arrow_cast(phone, 'Int64') FROM users;

-- case: err-regex-pattern-from-column | as: cn_contractor | class: error-echo
SELECT regexp_match('x', email || '(') FROM users;

-- case: err-regexp-like-name-pattern | as: cn_contractor | class: error-echo
SELECT regexp_like(phone, '(' || full_name || '[') FROM users;

-- case: err-make-date-from-digits | as: cn_contractor | class: error-echo
SELECT make_date(CAST(substr(regexp_replace(phone, '\D', '', 'g'), 1, 4) AS INT),
                 CAST(substr(regexp_replace(phone, '\D', '', 'g'), 5, 2) AS INT) + 40,
                 CAST(substr(regexp_replace(phone, '\D', '', 'g'), 7, 2) AS INT) + 40)
FROM users;

-- case: err-array-index-out-of-range | as: cn_contractor | class: error-echo
SELECT make_array(phone, email)[3], (string_to_array(email, '@'))[5],
       array_element(string_to_array(phone, '-'), -9), array_slice(make_array(full_name), 2, 9)
FROM users;

-- case: err-date-trunc-granularity | as: cn_contractor | class: error-echo
SELECT date_trunc(email, created_at), date_part(phone, created_at) FROM users;

-- case: err-format-string-from-column | as: cn_contractor | class: error-echo
SELECT to_timestamp('2024-01-01', full_name), to_char(created_at, email) FROM users;

-- case: err-division-by-zero-with-value | as: cn_contractor | class: error-echo
SELECT phone, CAST(substr(regexp_replace(phone, '\D', '', 'g'), 1, 6) AS BIGINT) / 0,
       1 / (length(email) - length(email))
FROM users;

-- case: err-cast-interval-boolean | as: cn_contractor | class: error-echo
SELECT CAST(address AS INTERVAL), CAST(email AS BOOLEAN), CAST(full_name AS TIMESTAMP)
FROM users;

-- case: err-decode-base64-hex | as: cn_contractor | class: error-echo
SELECT decode(phone, 'base64'), decode(email, 'hex'), decode(full_name, 'base64') FROM users;

-- case: err-card-numeric-casts | as: cn_contractor | class: error-echo
SELECT CAST(card_number AS DECIMAL(20, 0)), CAST(replace(card_number, ' ', '') AS BIGINT),
       card_number::double precision
FROM payments;

-- case: err-implicit-cast-comparison | as: cn_contractor | class: error-echo
SELECT user_id FROM users WHERE phone = 9012345678 OR email > 0 OR full_name = DATE '2000-01-01';

-- case: err-to-unixtime-and-timestamp-seconds | as: cn_contractor | class: error-echo
SELECT to_unixtime(full_name), to_timestamp_seconds(line_id), to_timestamp_millis(display_name)
FROM users;

-- case: err-jp-support-cast-nonjp | as: jp_support | class: error-echo
SELECT CAST(phone AS BIGINT), CAST(email AS DATE), to_timestamp(full_name)
FROM users
WHERE country IN ('TH', 'TW', 'ID');

-- case: err-jp-support-regex-nonjp-name | as: jp_support | class: error-echo
SELECT regexp_replace('x', '[' || full_name, ''), regexp_match(line_id, address || '(')
FROM users
WHERE country = 'TW';

-- case: err-jp-support-make-date-my-number | as: jp_support | class: error-echo
SELECT make_date(CAST(left(coalesce(my_number, phone), 4) AS INT),
                 CAST(substr(coalesce(my_number, phone), 5, 2) AS INT) + 20,
                 CAST(substr(coalesce(my_number, phone), 7, 2) AS INT) + 40)
FROM users
WHERE country <> 'JP';

-- case: err-moderator-cast-body | as: kr_moderator | class: error-echo
SELECT CAST(body AS BIGINT), body::date FROM messages;

-- case: err-moderator-timestamp-body | as: kr_moderator | class: error-echo
SELECT to_timestamp(body), regexp_like('x', body || '(') FROM reports;

-- case: oracle-count-phone-equals | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FROM users WHERE phone = '090-1234-5678';

-- case: oracle-count-like-prefix | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FROM users WHERE phone LIKE '0%' OR phone LIKE '+%' OR phone LIKE '０%';

-- case: oracle-count-filter-clauses | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FILTER (WHERE email LIKE '%@gmail.com') AS gmail,
       count(*) FILTER (WHERE email LIKE '%@yahoo.co.jp') AS yahoo,
       count(*) FILTER (WHERE full_name LIKE '% %') AS spaced,
       count(*) FILTER (WHERE address LIKE '東京都%') AS tokyo
FROM users;

-- case: oracle-sum-case-bisect | as: cn_contractor | class: timing-oracle-free
SELECT sum(CASE WHEN email < 'm' THEN 1 ELSE 0 END) AS lower_half,
       sum(CASE WHEN phone < '08' THEN 1 ELSE 0 END) AS below_08
FROM users;

-- case: oracle-count-long-in-list | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FROM users WHERE phone IN (
  '090-1000-0001','090-1000-0002','090-1000-0003','090-1000-0004','090-1000-0005',
  '090-1000-0006','090-1000-0007','090-1000-0008','090-1000-0009','090-1000-0010',
  '080-2000-0011','080-2000-0012','080-2000-0013','080-2000-0014','080-2000-0015',
  '080-2000-0016','080-2000-0017','080-2000-0018','080-2000-0019','080-2000-0020',
  '070-3000-0021','070-3000-0022','070-3000-0023','070-3000-0024','070-3000-0025',
  '070-3000-0026','070-3000-0027','070-3000-0028','070-3000-0029','070-3000-0030',
  '08012340031','09012340032','07012340033','08012340034','09012340035',
  '+81 90-4000-0036','+81 80-4000-0037','+81 70-4000-0038','+81 90-4000-0039',
  '+66 81-500-0040','+886 912-600-041','+62 812-7000-042','02-2000-0043','03-1234-0044',
  '06-1234-0045','011-123-0046','052-123-0047','092-123-0048','0120-123-049','0800-123-050'
);

-- case: oracle-count-user-id-raw-keys | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FILTER (WHERE user_id = 1) AS id1,
       count(*) FILTER (WHERE user_id BETWEEN 1 AND 1000) AS low_ids,
       count(*) FILTER (WHERE user_id IN (2, 3, 5, 7, 11, 13)) AS primes
FROM users;

-- case: oracle-count-card-prefix | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FROM payments
WHERE card_number LIKE '4111%' OR card_number LIKE '3782%' OR length(card_number) = 15;

-- case: oracle-count-birth-date-day | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FROM users
WHERE birth_date = DATE '1990-01-01'
   OR birth_date BETWEEN DATE '1985-03-01' AND DATE '1985-03-31'
   OR extract(month FROM birth_date) = 7;

-- case: oracle-count-address-postal | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FROM users
WHERE postal_code LIKE '1%' OR address LIKE '%区%' OR postal_code = '100-0001';

-- case: oracle-hash-join-probe | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FROM users u
JOIN (VALUES ('090'), ('080'), ('070')) AS g(p) ON left(u.phone, 3) = g.p;

-- case: oracle-semi-join-messages | as: cn_contractor | class: timing-oracle-free
SELECT count(*) FROM messages m
WHERE EXISTS (SELECT 1 FROM users u WHERE strpos(m.body, u.phone) > 0
                                       OR strpos(m.body, u.email) > 0);

-- case: oracle-jp-support-count-nonjp | as: jp_support | class: timing-oracle-free
SELECT country, count(*) FROM users
WHERE country <> 'JP'
  AND (phone LIKE '08%' OR phone LIKE '09%' OR phone LIKE '02%' OR email LIKE '%gmail%')
GROUP BY country;

-- case: oracle-jp-support-card-nonjp | as: jp_support | class: timing-oracle-free
SELECT count(*) FROM payments
WHERE country <> 'JP' AND (card_number LIKE '4%' OR card_number LIKE '5%' OR card_number LIKE '3%');

-- case: oracle-moderator-count-body | as: kr_moderator | class: timing-oracle-free
SELECT count(*) FROM messages WHERE body LIKE '%@%' OR body ~ '[0-9]{4}';

-- case: oracle-moderator-count-subject-keys | as: kr_moderator | class: timing-oracle-free
SELECT count(*) FROM messages WHERE sender_id < 100 OR recipient_id = 1
UNION ALL
SELECT count(*) FROM reports WHERE reporter_id BETWEEN 1 AND 600;

-- case: misc-url-table-etc-passwd | as: cn_contractor | class: misc
SELECT * FROM '/etc/passwd';

-- case: misc-url-table-relative-parquet | as: cn_contractor | class: misc
SELECT phone, email FROM 'users.parquet';

-- case: misc-url-table-glob-tmp | as: cn_contractor | class: misc
SELECT phone, email, full_name FROM '/tmp/*/users.parquet';

-- case: misc-create-external-table-dir | as: cn_contractor | class: misc
CREATE EXTERNAL TABLE raw_users STORED AS PARQUET LOCATION '/tmp/';

-- case: misc-input-file-name | as: cn_contractor | class: misc
SELECT input_file_name(), phone FROM users;

-- case: misc-generate-series-cross | as: cn_contractor | class: misc
SELECT g.value, t.email FROM generate_series(1, 3) AS g
CROSS JOIN (SELECT email FROM users LIMIT 3) t
UNION ALL
SELECT r.value, t2.phone FROM range(0, 2) AS r CROSS JOIN (SELECT phone FROM users LIMIT 2) t2;

-- case: misc-prepare-alone | as: cn_contractor | class: misc
PREPARE p AS SELECT phone, email FROM users;

-- case: misc-delete-returning | as: cn_contractor | class: misc
DELETE FROM users WHERE country = 'JP' RETURNING phone, email;

-- case: misc-update-copy-card-into-merchant | as: cn_contractor | class: misc
UPDATE payments SET merchant = card_number;

-- case: misc-create-or-replace-view-users | as: cn_contractor | class: misc
CREATE OR REPLACE VIEW users AS SELECT 1 AS user_id;

-- case: misc-pg-read-file | as: cn_contractor | class: misc
SELECT pg_read_file('/etc/hostname'), pg_ls_dir('/tmp'), pg_stat_file('/tmp');

-- case: misc-parquet-metadata | as: cn_contractor | class: misc
SELECT * FROM parquet_metadata('users.parquet');

-- case: misc-unnest-scalar-array | as: cn_contractor | class: misc
SELECT * FROM unnest((SELECT array_agg(phone) FROM users));

-- case: misc-server-identity-functions | as: cn_contractor | class: misc
SELECT current_user, session_user, current_role, version(), current_database(),
       current_schema(), pg_backend_pid();

-- case: misc-do-block | as: cn_contractor | class: misc
DO $$ BEGIN RAISE NOTICE '%', (SELECT string_agg(phone, ',') FROM users); END $$;

-- case: misc-dblink | as: cn_contractor | class: misc
SELECT * FROM dblink('dbname=kamei user=admin', 'SELECT phone FROM users') AS t(phone text);

-- case: misc-table-sample-and-lock | as: cn_contractor | class: misc
SELECT phone, email FROM users TABLESAMPLE SYSTEM (10) FOR UPDATE;

-- case: misc-alter-rename-column | as: cn_contractor | class: misc
ALTER TABLE users RENAME COLUMN phone TO created_at2;

-- case: misc-jp-support-report-body | as: jp_support | class: misc
SELECT report_id, reporter_country, body FROM reports WHERE reporter_country = 'JP';

-- case: misc-jp-support-url-table | as: jp_support | class: misc
SELECT phone, email, full_name, country FROM 'users.csv' WHERE country <> 'JP';

-- case: misc-moderator-url-table | as: kr_moderator | class: misc
SELECT * FROM 'demo/users.parquet';

-- case: misc-moderator-external-users | as: kr_moderator | class: misc
CREATE EXTERNAL TABLE users STORED AS CSV LOCATION 'demo/users.csv'
OPTIONS ('format.has_header' 'true');
