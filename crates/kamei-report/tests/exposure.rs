//! The exposure register on the demo configuration, checked against the decision matrix it is
//! built from.

use kamei_core::Level;
use kamei_policy::Config;
use kamei_report::exposure;

#[test]
fn every_grant_of_personal_data_is_listed_once_with_foreign_access_first() {
    let config = Config::demo().unwrap();
    let grants = exposure(&config);
    // Each non-denied decision on a personal column of a listed jurisdiction is in exactly one
    // grant (the register adds the fallback for unlisted jurisdictions on top).
    let granted: usize = config
        .matrix()
        .iter()
        .filter(|r| r.level != Level::Denied && r.category.is_personal())
        .count();
    let listed: usize = grants
        .iter()
        .filter(|g| g.jurisdiction.is_some())
        .map(|g| g.columns.len())
        .sum();
    assert_eq!(listed, granted);
    // The first part (across borders, raw identifiers) comes before the rest, most revealing
    // first within each part.
    let first = grants.iter().take_while(|g| g.first()).count();
    assert!(grants[first..].iter().all(|g| !g.first()));
    for part in [&grants[..first], &grants[first..]] {
        assert!(part.windows(2).all(|w| w[0].level.index() >= w[1].level.index()));
    }
    // cn_contractor (CN) reads only across borders, never raw; jp_support's raw JP phones are
    // domestic, its pseudonyms of Thai phones are foreign access.
    fn of<'a>(
        grants: &'a [kamei_report::Grant],
        p: &'a str,
    ) -> impl Iterator<Item = &'a kamei_report::Grant> {
        grants.iter().filter(move |g| g.principal == p)
    }
    assert!(of(&grants, "cn_contractor").all(|g| g.cross_border && g.level != Level::Raw && g.first()));
    let jp_phone = |j: &str| {
        of(&grants, "jp_support")
            .find(|g| {
                g.category.as_str() == "PHONE" && g.jurisdiction.map(|x| x.to_string()) == Some(j.into())
            })
            .unwrap()
    };
    assert_eq!(
        (jp_phone("JP").level, jp_phone("JP").cross_border),
        (Level::Raw, false)
    );
    assert!(jp_phone("JP").raw_identifier && jp_phone("JP").first());
    assert!(jp_phone("TH").cross_border && jp_phone("TH").level != Level::Raw);
    assert!(
        grants
            .iter()
            .all(|g| !g.policies.is_empty() && g.level != Level::Denied)
    );
}
