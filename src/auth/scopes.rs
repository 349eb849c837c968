//! SMART on FHIR resource scopes (SMART App Launch 2.2 §"Scopes for requesting FHIR
//! resources"): v1 `patient/*.read`, `user/Observation.write`, `system/*.*` and v2
//! `patient/Observation.rs`, `user/*.cruds`, with the granular form
//! `patient/Observation.rs?category=laboratory`. Parsing only: which interaction a scope
//! grants is decided by `interaction::access`. Scopes that are not resource scopes
//! (`openid`, `fhirUser`, `launch/patient`, `offline_access`…) grant no data access and are
//! skipped; a malformed resource scope grants nothing (never more than it says). `auth`
//! does authentication only: it may use `crate::error`, std and crates, never storage,
//! HTTP or consent.

/// Whose data a scope covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeContext {
    /// `patient/`: the data of the patient in context (the token's `patient`).
    Patient,
    /// `user/`: what the user may access (the consent engine decides the rest).
    User,
    /// `system/`: a backend service acting for the operator.
    System,
}

impl ScopeContext {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::User => "user",
            Self::System => "system",
        }
    }
}

/// One interaction class of SMART v2 (`c r u d s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// `c`: create.
    Create,
    /// `r`: read, vread, instance history.
    Read,
    /// `u`: update (and update-as-create), patch.
    Update,
    /// `d`: delete.
    Delete,
    /// `s`: type and system search, type and system history.
    Search,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Self::Create,
        Self::Read,
        Self::Update,
        Self::Delete,
        Self::Search,
    ];

    /// The v2 letter.
    pub fn letter(self) -> char {
        match self {
            Self::Create => 'c',
            Self::Read => 'r',
            Self::Update => 'u',
            Self::Delete => 'd',
            Self::Search => 's',
        }
    }

    /// A word for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Search => "search",
        }
    }
}

/// A parsed resource scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartScope {
    pub context: ScopeContext,
    /// The resource type, `None` for `*`.
    pub resource_type: Option<String>,
    /// The permissions granted, in `c r u d s` order, without repeats.
    pub permissions: Vec<Permission>,
    /// The granular search parameters of `?…` (decoded name/value pairs), AND-ed.
    pub query: Vec<(String, String)>,
}

impl SmartScope {
    /// Whether this scope grants `permission` on `resource_type` (before any granular
    /// restriction).
    pub fn covers(&self, resource_type: &str, permission: Permission) -> bool {
        self.permissions.contains(&permission)
            && self
                .resource_type
                .as_deref()
                .is_none_or(|t| t == resource_type)
    }
}

/// Scopes that are not about resources, and grant nothing here.
fn is_non_resource_scope(scope: &str) -> bool {
    matches!(
        scope,
        "openid" | "fhirUser" | "profile" | "offline_access" | "online_access" | "launch"
    ) || scope.starts_with("launch/")
}

/// The resource scopes of a token's `scope` list. Each malformed resource scope is skipped
/// and reported by name in the second list (for the logs).
pub fn parse_scopes(scopes: &[String]) -> (Vec<SmartScope>, Vec<String>) {
    let mut parsed = Vec::new();
    let mut malformed = Vec::new();
    for scope in scopes {
        if is_non_resource_scope(scope) {
            continue;
        }
        match parse_scope(scope) {
            Some(smart) => parsed.push(smart),
            None => malformed.push(scope.clone()),
        }
    }
    (parsed, malformed)
}

/// One scope `context/type.permissions[?query]`; `None` when it is not a well-formed
/// resource scope.
pub fn parse_scope(scope: &str) -> Option<SmartScope> {
    let (context, rest) = scope.split_once('/')?;
    let context = match context {
        "patient" => ScopeContext::Patient,
        "user" => ScopeContext::User,
        "system" => ScopeContext::System,
        _ => return None,
    };
    let (resource, rest) = rest.split_once('.')?;
    let resource_type = match resource {
        "*" => None,
        name if is_type_name(name) => Some(name.to_owned()),
        _ => return None,
    };
    let (permissions, query) = match rest.split_once('?') {
        Some((permissions, query)) => (permissions, Some(query)),
        None => (rest, None),
    };
    let permissions = parse_permissions(permissions)?;
    let query = match query {
        None => Vec::new(),
        Some(query) => parse_query(query)?,
    };
    if !query.is_empty() && !is_v2(rest) {
        // Granular restrictions exist only in v2 scopes.
        return None;
    }
    Some(SmartScope {
        context,
        resource_type,
        permissions,
        query,
    })
}

fn is_v2(permissions_and_query: &str) -> bool {
    let permissions = permissions_and_query
        .split_once('?')
        .map_or(permissions_and_query, |(p, _)| p);
    !matches!(permissions, "read" | "write" | "*")
}

/// v1 `read` (r s), `write` (c u d), `*` (c r u d s); v2 letters of `cruds`, in that
/// order, each at most once.
fn parse_permissions(text: &str) -> Option<Vec<Permission>> {
    use Permission::{Create, Delete, Read, Search, Update};
    match text {
        "read" => return Some(vec![Read, Search]),
        "write" => return Some(vec![Create, Update, Delete]),
        "*" => return Some(Permission::ALL.to_vec()),
        _ => {}
    }
    if text.is_empty() {
        return None;
    }
    let mut permissions = Vec::new();
    let mut next = 0;
    for letter in text.chars() {
        let position = Permission::ALL.iter().position(|p| p.letter() == letter)?;
        if position < next {
            return None;
        }
        next = position + 1;
        permissions.push(Permission::ALL[position]);
    }
    Some(permissions)
}

/// `name=value&name=value`, percent-decoded; every pair needs a name and a value.
fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let well_formed = !pairs.is_empty()
        && pairs
            .iter()
            .all(|(name, value)| !name.is_empty() && !value.is_empty());
    well_formed.then_some(pairs)
}

/// A FHIR resource type name: an upper-case letter then letters.
fn is_type_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphabetic())
        && name.len() <= 64
}

#[cfg(test)]
mod tests {
    use super::Permission::{Create, Delete, Read, Search, Update};
    use super::*;

    fn scope(text: &str) -> SmartScope {
        parse_scope(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    #[test]
    fn v1_scopes_map_to_v2_permissions() {
        let s = scope("patient/*.read");
        assert_eq!(s.context, ScopeContext::Patient);
        assert_eq!(s.resource_type, None);
        assert_eq!(s.permissions, [Read, Search]);
        assert_eq!(
            scope("user/Observation.write").permissions,
            [Create, Update, Delete]
        );
        assert_eq!(scope("system/*.*").permissions, Permission::ALL);
        assert_eq!(
            scope("user/Observation.write").resource_type.as_deref(),
            Some("Observation")
        );
    }

    #[test]
    fn v2_letters_are_subsets_in_order() {
        assert_eq!(scope("user/*.cruds").permissions, Permission::ALL);
        assert_eq!(scope("patient/Observation.rs").permissions, [Read, Search]);
        assert_eq!(scope("system/Claim.c").permissions, [Create]);
        assert_eq!(scope("user/Patient.ud").permissions, [Update, Delete]);
        for bad in [
            "user/*.sr",
            "user/*.rr",
            "user/*.x",
            "user/*.",
            "user/*.crudsx",
            "user/*.READ",
        ] {
            assert_eq!(parse_scope(bad), None, "{bad}");
        }
    }

    #[test]
    fn granular_scopes_keep_their_query() {
        let s = scope(
            "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        );
        assert_eq!(
            s.query,
            [(
                "category".to_owned(),
                "http://terminology.hl7.org/CodeSystem/observation-category|laboratory".to_owned()
            )]
        );
        let s = scope("user/Condition.rs?category=problem-list-item&clinical-status=active");
        assert_eq!(s.query.len(), 2);
        let s = scope("patient/Observation.rs?code=http%3A%2F%2Floinc.org%7C1234-5");
        assert_eq!(s.query[0].1, "http://loinc.org|1234-5");
        // v1 scopes have no granular form; empty or nameless queries are malformed.
        for bad in [
            "patient/Observation.read?category=laboratory",
            "patient/Observation.rs?",
            "patient/Observation.rs?=x",
            "patient/Observation.rs?category=",
        ] {
            assert_eq!(parse_scope(bad), None, "{bad}");
        }
    }

    #[test]
    fn malformed_scopes_grant_nothing() {
        for bad in [
            "Patient/*.read",
            "admin/*.read",
            "user/observation.read",
            "user/Obs-ervation.read",
            "user*.read",
            "user/*",
        ] {
            assert_eq!(parse_scope(bad), None, "{bad}");
        }
        let (parsed, malformed) = parse_scopes(&[
            "openid".into(),
            "fhirUser".into(),
            "launch/patient".into(),
            "offline_access".into(),
            "user/*.rs".into(),
            "user/*.bogus".into(),
        ]);
        assert_eq!(parsed.len(), 1);
        assert_eq!(malformed, ["user/*.bogus"]);
    }

    #[test]
    fn covers_checks_type_and_permission() {
        let any = scope("user/*.rs");
        assert!(any.covers("Observation", Read));
        assert!(any.covers("Patient", Search));
        assert!(!any.covers("Patient", Create));
        let one = scope("user/Observation.c");
        assert!(one.covers("Observation", Create));
        assert!(!one.covers("Condition", Create));
    }
}
