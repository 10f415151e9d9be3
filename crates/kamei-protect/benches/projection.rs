//! Throughput of `Projection::apply` alone, one thread: the users table as cn_contractor sees
//! it (seven keyed pseudonyms, three masks or generalisations, one column raw), on synthetic
//! rows. Run: `cargo bench -p kamei-protect --bench projection`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use kamei_core::{
    Category, ColumnPlan, Decision, Jurisdiction, JurisdictionSource, Level, PiiType, Subject, TablePlan,
};
use kamei_protect::{DomainKeys, Projection};

fn column(name: &str, category: Category, level: Level) -> ColumnPlan {
    let decision = Decision {
        level,
        policies: vec![],
    };
    ColumnPlan::new(
        name.into(),
        category,
        [
            Jurisdiction::JP,
            Jurisdiction::TH,
            Jurisdiction::TW,
            Jurisdiction::ID,
        ]
        .into_iter()
        .map(|j| (j, decision.clone()))
        .collect::<BTreeMap<_, _>>(),
    )
}

/// The same column as jp_support reads it: raw for JP, the given level elsewhere.
fn jp_raw_column(name: &str, category: Category, level: Level) -> ColumnPlan {
    let decision = |level| Decision {
        level,
        policies: vec![],
    };
    let by_jurisdiction = [Jurisdiction::TH, Jurisdiction::TW, Jurisdiction::ID]
        .into_iter()
        .map(|j| (j, decision(level)))
        .chain([(Jurisdiction::JP, decision(Level::Raw))])
        .collect();
    ColumnPlan::new(name.into(), category, by_jurisdiction)
}

fn main() {
    const ROWS: usize = 16 * 1024;
    const BATCHES: usize = 64;
    let s = |f: &dyn Fn(usize) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values((0..ROWS).map(f)))
    };
    let batch = RecordBatch::try_from_iter([
        (
            "user_id",
            Arc::new(Int64Array::from_iter_values(0..ROWS as i64)) as ArrayRef,
        ),
        ("line_id", s(&|i| format!("user-{i}"))),
        ("display_name", s(&|i| format!("表示名{i}"))),
        ("full_name", s(&|i| format!("山田 太郎{i}"))),
        ("full_name_kana", s(&|i| format!("ヤマダ タロウ{i}"))),
        (
            "phone",
            s(&|i| format!("090-{:04}-{:04}", i % 10_000, i / 7 % 10_000)),
        ),
        ("email", s(&|i| format!("taro.yamada{i}@example.jp"))),
        (
            "birth_date",
            Arc::new(Date32Array::from_iter_values(
                (0..ROWS as i32).map(|i| 3_000 + i % 15_000),
            )),
        ),
        (
            "gender",
            s(&|i| {
                if i % 2 == 0 {
                    "female".into()
                } else {
                    "male".into()
                }
            }),
        ),
        (
            "postal_code",
            s(&|i| format!("{:03}-{:04}", i % 1000, i % 10_000)),
        ),
        (
            "address",
            s(&|i| format!("東京都渋谷区道玄坂{}-{}-{}", i % 9 + 1, i % 20, i % 30)),
        ),
        ("country", s(&|i| ["JP", "TH", "TW", "ID"][i % 4].into())),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let pseud = Level::Pseudonymized;
    let users = |column: &dyn Fn(&str, Category, Level) -> ColumnPlan| {
        let columns = vec![
            column("user_id", Category::SubjectKey, pseud),
            column("line_id", Category::AccountId, pseud),
            column("display_name", Category::AccountId, pseud),
            column("full_name", Category::Pii(PiiType::Person), pseud),
            column("full_name_kana", Category::Pii(PiiType::Person), pseud),
            column("phone", Category::Pii(PiiType::Phone), pseud),
            column("email", Category::Pii(PiiType::Email), pseud),
            column("birth_date", Category::Pii(PiiType::DateOfBirth), Level::Masked),
            column("gender", Category::QuasiIdentifier, Level::Masked),
            column("postal_code", Category::Pii(PiiType::PostalCode), Level::Masked),
            column("address", Category::Pii(PiiType::Address), Level::Masked),
            column("country", Category::NonPersonal, Level::Raw),
        ];
        let subjects = vec![Subject {
            key: "user_id".into(),
            jurisdiction: JurisdictionSource::Column("country".into()),
        }];
        TablePlan::new(
            "cn_contractor".into(),
            "ldt-shanghai".into(),
            "users".into(),
            subjects,
            columns,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let plan = users(&column);
    let names: Vec<&str> = plan.columns().iter().map(|c| c.column()).collect();
    let keys = Arc::new(DomainKeys::for_testing("ldt-shanghai"));
    let projection =
        Projection::compile(&plan, &batch.schema(), &names, &keys, None).unwrap_or_else(|e| panic!("{e}"));
    projection.apply(&batch).unwrap_or_else(|e| panic!("{e}"));
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        for _ in 0..BATCHES {
            std::hint::black_box(projection.apply(&batch).unwrap_or_else(|e| panic!("{e}")));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let rows = (ROWS * BATCHES) as f64;
    println!(
        "projection users/cn_contractor, 1 thread: {rows} rows in {best:.3} s = {:.0} rows/s",
        rows / best
    );
    // Mixed levels: the same table as jp_support (raw for JP, pseudonymized otherwise).
    let mixed = users(&jp_raw_column);
    let projection =
        Projection::compile(&mixed, &batch.schema(), &names, &keys, None).unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    for _ in 0..BATCHES {
        std::hint::black_box(projection.apply(&batch).unwrap_or_else(|e| panic!("{e}")));
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "projection users/jp_support-like (4 jurisdictions, 2 levels), 1 thread: {:.0} rows/s",
        rows / t
    );
    // One integer column pseudonymized, side by side: a subject key's code (FF1, invertible
    // by kamei) against the keyed HMAC integer pseudonym other integer columns get.
    let ids =
        RecordBatch::try_from_iter([("user_id", batch.column(0).clone())]).unwrap_or_else(|e| panic!("{e}"));
    for (what, category) in [
        ("subject-key code (FF1)", Category::SubjectKey),
        ("HMAC integer pseudonym", Category::QuasiIdentifier),
    ] {
        let plan = TablePlan::new(
            "cn_contractor".into(),
            "ldt-shanghai".into(),
            "ids".into(),
            vec![Subject {
                key: "user_id".into(),
                jurisdiction: JurisdictionSource::Fixed(Jurisdiction::JP),
            }],
            vec![column("user_id", category, pseud)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let projection = Projection::compile(&plan, &ids.schema(), &["user_id"], &keys, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            for _ in 0..BATCHES {
                std::hint::black_box(projection.apply(&ids).unwrap_or_else(|e| panic!("{e}")));
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!("user_id as {what}, 1 thread: {:.0} values/s", rows / best);
    }
}
