//! principals.toml: who reads, with the attributes policies decide on and a credential.

use std::collections::HashSet;

use kamei_core::Jurisdiction;
use serde::Deserialize;
use toml::Spanned;

use crate::error::Problem;
use crate::scram::ScramVerifier;
use crate::source::Source;

/// A principal: a person or service that reads data through kamei.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    /// The recipient domain of its pseudonyms.
    pub org: String,
    /// Where it operates; compared with the data subject's jurisdiction.
    pub country: Jurisdiction,
    pub roles: Vec<String>,
    /// The gateway's credential (redacting `Debug`).
    pub credential: ScramVerifier,
    /// A demo principal: accepted by the gateway on loopback addresses only.
    pub demo: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalsFile {
    #[serde(default)]
    principals: Vec<PrincipalFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalFile {
    name: Spanned<String>,
    org: Spanned<String>,
    country: Spanned<String>,
    #[serde(default)]
    roles: Vec<Spanned<String>>,
    credential: Option<Spanned<String>>,
    /// Accepted only to reject it with a precise error; its value is never read or printed.
    password: Option<Spanned<toml::Value>>,
    #[serde(default)]
    demo: bool,
}

pub(crate) fn parse(source: &Source<'_>, problems: &mut Vec<Problem>) -> Option<Vec<Principal>> {
    let file: PrincipalsFile = match source.parse_toml() {
        Ok(f) => f,
        Err(p) => {
            problems.push(p);
            return None;
        }
    };
    let before = problems.len();
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for p in file.principals {
        let name = p.name.get_ref().clone();
        if !crate::catalog::is_identifier(&name) {
            problems.push(source.problem_at(
                p.name.span().start,
                "field `name` of a principal: not a valid name (letters, digits, `_`, `-`)".into(),
            ));
            continue;
        }
        if !names.insert(name.clone()) {
            problems
                .push(source.problem_at(p.name.span().start, format!("principal `{name}` is listed twice")));
            continue;
        }
        if let Some(pw) = &p.password {
            problems.push(source.problem_at(
                pw.span().start,
                format!(
                    "field `password` of principal `{name}`: plain passwords are not accepted; store a \
                     SCRAM-SHA-256 verifier in `credential` instead"
                ),
            ));
            continue;
        }
        let country = match p.country.get_ref().parse::<Jurisdiction>() {
            Ok(c) => c,
            Err(e) => {
                problems.push(source.problem_at(
                    p.country.span().start,
                    format!("field `country` of principal `{name}`: {e}"),
                ));
                continue;
            }
        };
        if p.org.get_ref().is_empty() {
            problems.push(source.problem_at(
                p.org.span().start,
                format!("field `org` of principal `{name}` is empty"),
            ));
            continue;
        }
        let credential = match &p.credential {
            None => {
                problems.push(source.problem_at(
                    p.name.span().start,
                    format!("principal `{name}` has no `credential`; add a SCRAM-SHA-256 verifier"),
                ));
                continue;
            }
            Some(c) => match ScramVerifier::parse(c.get_ref()) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(source.problem_at(
                        c.span().start,
                        format!("field `credential` of principal `{name}`: {e}"),
                    ));
                    continue;
                }
            },
        };
        let mut roles: Vec<String> = p.roles.iter().map(|r| r.get_ref().clone()).collect();
        roles.sort();
        roles.dedup();
        out.push(Principal {
            name,
            org: p.org.get_ref().clone(),
            country,
            roles,
            credential,
            demo: p.demo,
        });
    }
    (problems.len() == before).then_some(out)
}
