//! What every field needs, read from the schema itself, and the rules that make a forgotten guard
//! fail a test.
//!
//! A field's guard enforces; its `@requires(permission: …)` directive shows the rule in the schema.
//! This module reads the directives back out of the SDL (with async-graphql's own parser) so that
//! tests and `docs/PERMISSIONS.md` work from one source:
//! - every root field carries `@requires`, or is named in [`PUBLIC_FIELDS`],
//!   [`SELF_SERVICE_FIELDS`] or [`PER_TYPE_FIELDS`]: a new root field with neither is [`Requirement::Unguarded`];
//! - every object type is reachable under one permission only ([`exposure_violations`]): an
//!   object field that hands out data another permission guards (a product's balances, a
//!   balance's location) must carry that permission's `@requires`, which stops the walk there.
//!
//! `tests/it/permissions.rs` then proves, against the running service, that each directive is
//! backed by a guard that refuses callers without the permission, root and object fields alike.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use async_graphql::parser::types::{BaseType, FieldDefinition, TypeKind, TypeSystemDefinition};
use async_graphql::{Name, Value};

/// The only fields an anonymous caller may use.
pub const PUBLIC_FIELDS: &[&str] = &["Query.health", "Mutation.login"];

/// Root fields any signed-in user may call, acting on their own account only. The one place
/// such fields are listed: a root field that is neither here, public nor `@requires`-guarded
/// fails `tests/it/permissions.rs`.
pub const SELF_SERVICE_FIELDS: &[&str] = &[
    "Query.me",
    "Query.mySessions",
    "Mutation.logout",
    "Mutation.changePassword",
    "Mutation.revokeSession",
];

/// Root fields that serve several types and check, per call, the view permission of the type
/// asked for; the same permission as the type's own root field (`Query.product` for a product).
pub const PER_TYPE_FIELDS: &[&str] = &["Query.node"];

/// Types any caller may be shown wherever they appear: plumbing that carries no organisation
/// data of its own.
const SHARED_TYPES: &[&str] = &["PageInfo", "UserError"];

/// What calling a field needs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Requirement {
    /// No session ([`PUBLIC_FIELDS`]).
    Public,
    /// Any signed-in user, on their own account ([`SELF_SERVICE_FIELDS`]).
    SignedIn,
    /// A session holding this permission (its GraphQL name, `PRODUCTS_VIEW`).
    Permission(String),
    /// A signed-in session holding the view permission of the type the id names
    /// ([`PER_TYPE_FIELDS`]).
    PerType,
    /// A root field with no guard and on no list: a bug the tests refuse.
    Unguarded,
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Public => f.write_str("public"),
            Self::SignedIn => f.write_str("signed in"),
            Self::Permission(permission) => f.write_str(permission),
            Self::PerType => f.write_str("the view permission of the id's type"),
            Self::Unguarded => f.write_str("UNGUARDED"),
        }
    }
}

/// One field of an object type, as the schema declares it.
#[derive(Clone, Debug)]
pub struct FieldShape {
    pub name: String,
    /// The named type under any list and non-null wrappers.
    pub type_name: String,
    /// Arguments without a default that must be given.
    pub required_arguments: Vec<String>,
    /// The permission of its `@requires` directive, if it has one.
    pub requires: Option<String>,
}

/// The object and interface types of a schema with their fields, read from its SDL.
#[derive(Clone, Debug, Default)]
pub struct SchemaShape {
    pub types: BTreeMap<String, Vec<FieldShape>>,
}

impl SchemaShape {
    /// Reads `sdl`: the service's own, or a test's.
    pub fn parse(sdl: &str) -> Result<Self, String> {
        let document = async_graphql::parser::parse_schema(sdl).map_err(|err| err.to_string())?;
        let mut types = BTreeMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let definition = definition.node;
            let fields = match definition.kind {
                TypeKind::Object(object) => object.fields,
                TypeKind::Interface(interface) => interface.fields,
                _ => continue,
            };
            let fields = fields
                .into_iter()
                .map(|field| field_shape(&field.node))
                .collect();
            types.insert(definition.name.node.to_string(), fields);
        }
        Ok(Self { types })
    }

    pub fn fields(&self, type_name: &str) -> &[FieldShape] {
        self.types.get(type_name).map_or(&[], Vec::as_slice)
    }

    /// Every root field (`Query.…`, `Mutation.…`) with what it needs.
    pub fn root_requirements(&self) -> Vec<(String, Requirement)> {
        ["Query", "Mutation"]
            .iter()
            .flat_map(|root| {
                self.fields(root).iter().map(move |field| {
                    let qualified = format!("{root}.{}", field.name);
                    let requirement = match &field.requires {
                        Some(permission) => Requirement::Permission(permission.clone()),
                        None if PUBLIC_FIELDS.contains(&qualified.as_str()) => Requirement::Public,
                        None if SELF_SERVICE_FIELDS.contains(&qualified.as_str()) => {
                            Requirement::SignedIn
                        }
                        None if PER_TYPE_FIELDS.contains(&qualified.as_str()) => {
                            Requirement::PerType
                        }
                        None => Requirement::Unguarded,
                    };
                    (qualified, requirement)
                })
            })
            .collect()
    }

    /// Every non-root field that carries `@requires`: (`Product.balances`, `STOCK_VIEW`).
    pub fn guarded_object_fields(&self) -> Vec<(String, String, String)> {
        self.types
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "Query" | "Mutation"))
            .flat_map(|(type_name, fields)| {
                fields.iter().filter_map(move |field| {
                    field.requires.as_ref().map(|permission| {
                        (type_name.clone(), field.name.clone(), permission.clone())
                    })
                })
            })
            .collect()
    }

    /// Fields that hand out what another permission guards, each as a sentence naming the path.
    ///
    /// Two rules, so that a forgotten or wrong guard is found from the schema alone:
    /// - **One owner per type.** Walking from every permission-guarded `Query` field, each object
    ///   type must be reached under one permission only. A field carrying `@requires(P)` is
    ///   walked on under P, so a guard naming the wrong permission is caught like a missing one
    ///   ("`Location` is reachable under LOCATIONS_VIEW (Query.locations) and under
    ///   WAREHOUSES_VIEW (Query.warehouses → Warehouse.locations)").
    /// - **A mutation hands back what its family may see.** A mutation guarded by `STOCK_ADJUST`
    ///   may answer with what `STOCK_VIEW` shows (the movements it posted), and with nothing
    ///   else unguarded: every type its payload reaches must be owned by its family's view
    ///   permission (the name's first word and `_VIEW`), or sit behind a `@requires` of its own.
    ///
    /// Self-service and per-type roots (`me`, `node`) are not walked: they show the caller their
    /// own records, or check per call.
    pub fn exposure_violations(&self) -> Vec<String> {
        // type → requirement → the path that first reached it under that requirement
        let mut owners: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let roots = self.root_requirements();
        for (root, requirement) in &roots {
            let Some(field_name) = root.strip_prefix("Query.") else {
                continue;
            };
            let requirement = match requirement {
                Requirement::Permission(permission) => permission.clone(),
                Requirement::Unguarded => "UNGUARDED".to_owned(),
                Requirement::Public | Requirement::SignedIn | Requirement::PerType => continue,
            };
            let Some(field) = self.fields("Query").iter().find(|f| f.name == field_name) else {
                continue;
            };
            self.walk(
                &field.type_name,
                root,
                &requirement,
                &mut |type_name, requirement, path| {
                    owners
                        .entry(type_name.to_owned())
                        .or_default()
                        .entry(requirement.to_owned())
                        .or_insert_with(|| path.to_owned());
                },
            );
        }
        let mut violations: Vec<String> = owners
            .iter()
            .filter(|(_, under)| under.len() > 1)
            .map(|(type_name, under)| {
                let ways: Vec<String> = under
                    .iter()
                    .map(|(requirement, path)| format!("under {requirement} ({path})"))
                    .collect();
                format!(
                    "{type_name} is reachable {}: guard the field that leads to it with the \
                     permission that owns it (@requires and a guard)",
                    ways.join(" and ")
                )
            })
            .collect();

        for (root, requirement) in &roots {
            let (Some(field_name), Requirement::Permission(permission)) =
                (root.strip_prefix("Mutation."), requirement)
            else {
                continue;
            };
            let Some(field) = self
                .fields("Mutation")
                .iter()
                .find(|f| f.name == field_name)
            else {
                continue;
            };
            // A mutation may hand back what its family's VIEW bit guards; a family without one
            // (backups: BACKUPS_DOWNLOAD only) hands back what its own bit guards.
            let family = permission.split('_').next().unwrap_or_default();
            let family_view = Some(format!("{family}_VIEW"))
                .filter(|view| {
                    roots
                        .iter()
                        .any(|(_, guard)| matches!(guard, Requirement::Permission(p) if p == view))
                })
                .unwrap_or_else(|| permission.to_string());
            let mut found = Vec::new();
            self.walk(
                &field.type_name,
                root,
                &family_view,
                &mut |type_name, requirement, path| {
                    let Some(under) = owners.get(type_name) else {
                        // Only mutations return it (a payload): nothing else decides who sees it.
                        return;
                    };
                    if !under.contains_key(requirement) {
                        let owner: Vec<&str> = under.keys().map(String::as_str).collect();
                        found.push(format!(
                            "{root} (needs {permission}) hands out {type_name}, which {} guards, \
                         through {path}: guard that field with it (@requires and a guard)",
                            owner.join(" and ")
                        ));
                    }
                },
            );
            violations.extend(found);
        }
        violations
    }

    /// Visits every object type reachable from `start` (a type under `requirement`, reached by
    /// `path`), following unguarded fields under the same requirement and guarded ones under
    /// their own permission; `visit(type, requirement, path)` once per type and requirement.
    fn walk(
        &self,
        start: &str,
        path: &str,
        requirement: &str,
        visit: &mut dyn FnMut(&str, &str, &str),
    ) {
        let mut queue =
            VecDeque::from([(start.to_owned(), requirement.to_owned(), path.to_owned())]);
        let mut seen = BTreeSet::new();
        while let Some((type_name, requirement, path)) = queue.pop_front() {
            if !self.types.contains_key(&type_name)
                || SHARED_TYPES.contains(&type_name.as_str())
                || !seen.insert((type_name.clone(), requirement.clone()))
            {
                continue;
            }
            visit(&type_name, &requirement, &path);
            for field in self.fields(&type_name) {
                let next = field
                    .requires
                    .clone()
                    .unwrap_or_else(|| requirement.clone());
                queue.push_back((
                    field.type_name.clone(),
                    next,
                    format!("{path} → {type_name}.{}", field.name),
                ));
            }
        }
    }
}

fn field_shape(field: &FieldDefinition) -> FieldShape {
    let mut ty = &field.ty.node;
    let type_name = loop {
        match &ty.base {
            BaseType::Named(name) => break name.to_string(),
            BaseType::List(inner) => ty = inner,
        }
    };
    let requires = field
        .directives
        .iter()
        .find(|directive| directive.node.name.node == "requires")
        .and_then(|directive| {
            directive.node.arguments.iter().find_map(|(name, value)| {
                match (name.node == Name::new("permission"), &value.node) {
                    (true, Value::Enum(permission)) => Some(permission.to_string()),
                    _ => None,
                }
            })
        });
    let required_arguments = field
        .arguments
        .iter()
        .filter(|argument| !argument.node.ty.node.nullable && argument.node.default_value.is_none())
        .map(|argument| argument.node.name.node.to_string())
        .collect();
    FieldShape {
        name: field.name.node.to_string(),
        type_name,
        required_arguments,
        requires,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        directive @requires(permission: Permission!) on FIELD_DEFINITION
        enum Permission { A_VIEW A_EDIT B_VIEW }
        type PageInfo { hasNextPage: Boolean! }
        type Thing { id: ID! other: Other @requires(permission: B_VIEW) }
        type Other { id: ID! }
        type ThingConnection { nodes: [Thing!]! pageInfo: PageInfo! }
        type ThingPayload { thing: Thing userErrors: [UserError!]! }
        type UserError { message: String! }
        type Mutation { saveThing: ThingPayload! @requires(permission: A_EDIT) }
        type Query {
            health: Boolean!
            me: Thing!
            things(first: Int): ThingConnection! @requires(permission: A_VIEW)
            others: [Other!]! @requires(permission: B_VIEW)
        }
    "#;

    #[test]
    fn the_live_schema_has_no_unguarded_root_field_and_no_leaking_object_field() {
        let shape = SchemaShape::parse(&super::super::sdl()).expect("the service's SDL parses");
        let unguarded: Vec<_> = shape
            .root_requirements()
            .into_iter()
            .filter(|(_, requirement)| *requirement == Requirement::Unguarded)
            .collect();
        assert!(unguarded.is_empty(), "{unguarded:?}");
        assert_eq!(shape.exposure_violations(), Vec::<String>::new());
        assert!(!shape.guarded_object_fields().is_empty());
    }

    #[test]
    fn directives_lists_and_arguments_are_read_from_the_sdl() {
        let shape = SchemaShape::parse(SDL).expect("parses");
        let roots = shape.root_requirements();
        assert!(roots.contains(&("Query.health".into(), Requirement::Public)));
        assert!(roots.contains(&("Query.me".into(), Requirement::SignedIn)));
        assert!(roots.contains(&(
            "Query.things".into(),
            Requirement::Permission("A_VIEW".into())
        )));
        assert_eq!(
            shape.guarded_object_fields(),
            vec![("Thing".into(), "other".into(), "B_VIEW".into())]
        );
        assert!(shape.exposure_violations().is_empty());
    }

    #[test]
    fn a_root_field_without_guard_or_listing_is_unguarded() {
        let sdl = SDL.replace("health: Boolean!", "health: Boolean!\n secrets: [Other!]!");
        let shape = SchemaShape::parse(&sdl).expect("parses");
        assert!(
            shape
                .root_requirements()
                .contains(&("Query.secrets".into(), Requirement::Unguarded))
        );
    }

    #[test]
    fn an_object_field_handing_out_another_permissions_type_is_a_violation() {
        let sdl = SDL.replace(
            "other: Other @requires(permission: B_VIEW)",
            "other: Other @requires(permission: B_VIEW)\n leaked: [Other!]!",
        );
        let shape = SchemaShape::parse(&sdl).expect("parses");
        let violations = shape.exposure_violations();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(violations[0].contains("Other is reachable under A_VIEW"));
        assert!(violations[0].contains("Thing.leaked"));
    }

    #[test]
    fn a_guard_naming_the_wrong_permission_is_a_violation() {
        // `Other` is B_VIEW's; a field guarded by A_VIEW still hands it out under A_VIEW.
        let sdl = SDL.replace(
            "other: Other @requires(permission: B_VIEW)",
            "other: Other @requires(permission: B_VIEW)\n wrong: [Other!]! @requires(permission: A_VIEW)",
        );
        let shape = SchemaShape::parse(&sdl).expect("parses");
        let violations = shape.exposure_violations();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(violations[0].contains("Thing.wrong"), "{violations:?}");
    }

    #[test]
    fn a_payload_handing_out_another_familys_type_is_a_violation() {
        let shape = SchemaShape::parse(SDL).expect("parses");
        assert!(shape.exposure_violations().is_empty());
        let sdl = SDL.replace(
            "type ThingPayload { thing: Thing",
            "type ThingPayload { thing: Thing leaked: [Other!]!",
        );
        let shape = SchemaShape::parse(&sdl).expect("parses");
        let violations = shape.exposure_violations();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(
            violations[0].contains("Mutation.saveThing"),
            "{violations:?}"
        );
        assert!(
            violations[0].contains("ThingPayload.leaked"),
            "{violations:?}"
        );
    }
}
