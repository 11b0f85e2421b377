//! Every field's guard, proven by walking the live schema: anonymous callers are refused, a user
//! with no permissions gets FORBIDDEN naming the field's permission, and a user with exactly that
//! one permission gets past the guard. The permission matrix in docs/ is checked against the code.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use vaskem::auth::permission::Permission;

use crate::on_both_databases;
use crate::support::app::error_code;
use crate::support::database::TEST_PASSWORD;
use crate::support::{Backend, TestApp};

on_both_databases!(every_field_is_guarded_as_the_schema_says);

const TYPE_REF: &str =
    "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

fn introspection_query() -> String {
    format!(
        "{{ __schema {{
            queryType {{ fields {{ name args {{ name type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }}
            mutationType {{ fields {{ name args {{ name type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }}
            types {{ name kind inputFields {{ name type {{ {TYPE_REF} }} }} enumValues {{ name }} }}
        }} }}"
    )
}

/// A literal that satisfies `type_ref` (required input fields only).
fn literal(type_ref: &Value, types: &[Value]) -> String {
    match type_ref["kind"].as_str() {
        Some("NON_NULL") => literal(&type_ref["ofType"], types),
        Some("LIST") => "[]".to_owned(),
        Some("ENUM") => {
            let name = type_ref["name"].as_str().expect("enum name");
            let definition = types.iter().find(|t| t["name"] == name).expect("enum type");
            definition["enumValues"][0]["name"]
                .as_str()
                .expect("value")
                .to_owned()
        }
        Some("INPUT_OBJECT") => {
            let name = type_ref["name"].as_str().expect("input name");
            let definition = types
                .iter()
                .find(|t| t["name"] == name)
                .expect("input type");
            let fields: Vec<String> = definition["inputFields"]
                .as_array()
                .expect("input fields")
                .iter()
                .filter(|field| field["type"]["kind"] == "NON_NULL")
                .map(|field| {
                    format!(
                        "{}: {}",
                        field["name"].as_str().expect("name"),
                        literal(&field["type"], types)
                    )
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        _ => match type_ref["name"].as_str() {
            Some("ID") => format!("\"{}\"", uuid::Uuid::now_v7()),
            Some("Int") => "1".to_owned(),
            Some("Boolean") => "true".to_owned(),
            Some("DateTime") => "\"2026-01-01T00:00:00Z\"".to_owned(),
            _ => "\"x\"".to_owned(),
        },
    }
}

fn base_kind(type_ref: &Value) -> &str {
    match type_ref["kind"].as_str() {
        Some("NON_NULL" | "LIST") => base_kind(&type_ref["ofType"]),
        Some(kind) => kind,
        None => "",
    }
}

/// A minimal document calling one root field.
fn document(operation: &str, field: &Value, types: &[Value]) -> String {
    let args: Vec<String> = field["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter(|arg| arg["type"]["kind"] == "NON_NULL")
        .map(|arg| {
            format!(
                "{}: {}",
                arg["name"].as_str().expect("name"),
                literal(&arg["type"], types)
            )
        })
        .collect();
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    };
    let selection = if matches!(base_kind(&field["type"]), "OBJECT" | "INTERFACE") {
        " { __typename }"
    } else {
        ""
    };
    format!(
        "{operation} {{ {}{args}{selection} }}",
        field["name"].as_str().expect("name")
    )
}

async fn every_field_is_guarded_as_the_schema_says(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.member_of_new_organisation("Alpha").await;
    let (_, schema) = app
        .graphql_in(Some(&owner.session), &introspection_query(), json!({}))
        .await;
    let schema = &schema["data"]["__schema"];
    let types = schema["types"].as_array().expect("types").clone();
    let requirements = vaskem::graphql::permission_requirements();

    let mut fields = Vec::new();
    for (root, operation) in [("queryType", "query"), ("mutationType", "mutation")] {
        let root_name = if operation == "query" {
            "Query"
        } else {
            "Mutation"
        };
        for field in schema[root]["fields"].as_array().expect("fields") {
            let name = format!("{root_name}.{}", field["name"].as_str().expect("name"));
            fields.push((name, document(operation, field, &types)));
        }
    }
    let live: BTreeSet<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
    let documented: BTreeSet<&str> = requirements.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        live, documented,
        "every field must appear in the requirements"
    );

    let nobody = app.database.user_with_permissions(owner.tenant, &[]).await;
    for (field, document) in &fields {
        let needs = &requirements
            .iter()
            .find(|(name, _)| name == field)
            .expect("requirement")
            .1;
        let (_, anonymous) = app.graphql(document, json!({})).await;
        if needs == "public" {
            assert_ne!(
                anonymous["errors"][0]["message"], "not signed in",
                "{field}: {anonymous}"
            );
            continue;
        }
        assert_eq!(
            error_code(&anonymous),
            Some("UNAUTHENTICATED"),
            "{field} anonymously: {anonymous}"
        );

        // A fresh session each time: `logout` would end a shared one.
        let session = app.login(&nobody, TEST_PASSWORD).await;
        let (_, refused) = app.graphql_in(Some(&session), document, json!({})).await;
        if needs == "signed in" {
            let code = error_code(&refused);
            assert!(
                !matches!(code, Some("UNAUTHENTICATED" | "FORBIDDEN")),
                "{field} is self-service: {refused}"
            );
            continue;
        }
        assert_eq!(
            error_code(&refused),
            Some("FORBIDDEN"),
            "{field} without {needs}: {refused}"
        );
        assert_eq!(
            refused["errors"][0]["extensions"]["permission"],
            needs.as_str(),
            "{field}"
        );
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needs.as_str())
        );

        let permission = *Permission::ALL
            .iter()
            .find(|p| p.name() == needs)
            .unwrap_or_else(|| panic!("{field}: unknown permission {needs}"));
        let holder = app
            .database
            .user_with_permissions(owner.tenant, &[permission])
            .await;
        let session = app.login(&holder, TEST_PASSWORD).await;
        let (_, allowed) = app.graphql_in(Some(&session), document, json!({})).await;
        let code = error_code(&allowed);
        assert!(
            !matches!(code, Some("UNAUTHENTICATED" | "FORBIDDEN")),
            "{field} with exactly {needs}: {allowed}"
        );
    }
}

#[test]
fn permission_matrix_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/PERMISSIONS.md");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == vaskem::graphql::permission_matrix(),
        "docs/PERMISSIONS.md is out of date: run `cargo run -q -- permissions > docs/PERMISSIONS.md`"
    );
}

#[test]
fn every_permission_is_listed_once_in_the_matrix() {
    let matrix = vaskem::graphql::permission_matrix();
    for permission in Permission::ALL {
        let row = format!("| {} | `{}` |", permission.bit(), permission.name());
        assert_eq!(matrix.matches(&row).count(), 1, "{row}");
    }
}
