//! The subsumption hierarchy of a CodeSystem resource (R4 codesystem.html): a concept
//! nested in another's `concept` is its child, and the properties `parent` and `subsumedBy`
//! (valueCode: the parent) and `child` (valueCode: the child) add links. Walks are
//! breadth-first with a visited set, so a cyclic CodeSystem cannot loop. Pure.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::Value;

/// The codes of a CodeSystem and their parent links.
#[derive(Debug, Default)]
pub struct Hierarchy {
    codes: BTreeSet<String>,
    parents: BTreeMap<String, BTreeSet<String>>,
    children: BTreeMap<String, BTreeSet<String>>,
}

impl Hierarchy {
    /// The hierarchy of the CodeSystem `code_system`.
    pub fn of(code_system: &Value) -> Hierarchy {
        let mut hierarchy = Hierarchy::default();
        if let Some(concepts) = code_system.get("concept").and_then(Value::as_array) {
            hierarchy.add_concepts(concepts, None);
        }
        hierarchy
    }

    fn add_concepts(&mut self, concepts: &[Value], parent: Option<&str>) {
        for concept in concepts {
            let Some(code) = concept.get("code").and_then(Value::as_str) else {
                continue;
            };
            self.codes.insert(code.to_owned());
            if let Some(parent) = parent {
                self.link(parent, code);
            }
            for property in concept
                .get("property")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let other = property.get("valueCode").and_then(Value::as_str);
                match (property.get("code").and_then(Value::as_str), other) {
                    (Some("parent" | "subsumedBy"), Some(up)) => self.link(up, code),
                    (Some("child"), Some(down)) => self.link(code, down),
                    _ => {}
                }
            }
            if let Some(children) = concept.get("concept").and_then(Value::as_array) {
                self.add_concepts(children, Some(code));
            }
        }
    }

    fn link(&mut self, parent: &str, child: &str) {
        if parent == child {
            return;
        }
        self.parents
            .entry(child.to_owned())
            .or_default()
            .insert(parent.to_owned());
        self.children
            .entry(parent.to_owned())
            .or_default()
            .insert(child.to_owned());
    }

    /// Whether the CodeSystem defines no concept (`content: not-present`).
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Every code the CodeSystem defines.
    pub fn codes(&self) -> &BTreeSet<String> {
        &self.codes
    }

    /// `code` and every code it subsumes.
    pub fn self_and_descendants(&self, code: &str) -> BTreeSet<String> {
        walk(code, &self.children)
    }

    /// `code` and every code that subsumes it.
    pub fn self_and_ancestors(&self, code: &str) -> BTreeSet<String> {
        walk(code, &self.parents)
    }
}

fn walk(start: &str, links: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let mut seen = BTreeSet::from([start.to_owned()]);
    let mut pending = VecDeque::from([start.to_owned()]);
    while let Some(code) = pending.pop_front() {
        for next in links.get(&code).into_iter().flatten() {
            if seen.insert(next.clone()) {
                pending.push_back(next.clone());
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nesting_and_properties_both_link() {
        let cs = json!({"resourceType": "CodeSystem", "concept": [
            {"code": "a", "concept": [{"code": "b", "concept": [{"code": "c"}]}]},
            {"code": "d", "property": [{"code": "parent", "valueCode": "b"}]},
            {"code": "e", "property": [{"code": "child", "valueCode": "a"}]},
            {"code": "f", "property": [{"code": "subsumedBy", "valueCode": "f"}]}
        ]});
        let h = Hierarchy::of(&cs);
        let set = |codes: &[&str]| {
            codes
                .iter()
                .map(|c| (*c).to_owned())
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(h.self_and_descendants("b"), set(&["b", "c", "d"]));
        assert_eq!(h.self_and_descendants("e"), set(&["a", "b", "c", "d", "e"]));
        assert_eq!(h.self_and_ancestors("d"), set(&["a", "b", "d", "e"]));
        assert_eq!(h.self_and_ancestors("f"), set(&["f"]));
        assert_eq!(h.codes().len(), 6);
    }
}
