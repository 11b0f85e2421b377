//! The live schema holds every field to the conventions: connections, payloads, inputs.

use serde_json::Value;

use super::{TYPE_REF, named};

#[tokio::test]
async fn the_schema_follows_the_conventions() {
    let schemas = vaskem::graphql::Schemas::new(vaskem::graphql::QueryLimits::default());
    let query = format!(
        "{{ __schema {{
            queryType {{ fields {{ name args {{ name }} type {{ {TYPE_REF} }} }} }}
            mutationType {{ fields {{ name args {{ name type {{ {TYPE_REF} }} }} type {{ {TYPE_REF} }} }} }}
            types {{ name kind fields {{ name type {{ {TYPE_REF} }} }} }}
        }} }}"
    );
    let response = schemas.signed_in.execute(query.as_str()).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let schema = response.data.into_json().expect("json")["__schema"].clone();
    let types = schema["types"].as_array().expect("types").clone();
    let fields_of = |name: &str| -> Vec<Value> {
        types
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["fields"].as_array().cloned())
            .unwrap_or_default()
    };

    // Lists: no bare list at the root; every connection takes filter, sort, first and after and
    // offers totalCount and pageInfo.
    let mut connections = 0;
    for field in schema["queryType"]["fields"].as_array().expect("fields") {
        let name = field["name"].as_str().expect("name");
        let (type_name, is_list) = named(&field["type"]);
        assert!(
            !is_list,
            "Query.{name} returns a bare list, not a connection"
        );
        if !type_name.ends_with("Connection") {
            continue;
        }
        connections += 1;
        let args: Vec<&str> = field["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(|a| a["name"].as_str())
            .collect();
        assert_eq!(
            args,
            ["filter", "sort", "first", "after"],
            "Query.{name} arguments"
        );
        let offered: Vec<String> = fields_of(&type_name)
            .iter()
            .filter_map(|f| f["name"].as_str().map(str::to_owned))
            .collect();
        for needed in ["edges", "nodes", "pageInfo", "totalCount"] {
            assert!(
                offered.iter().any(|f| f == needed),
                "{type_name} lacks {needed}"
            );
        }
    }
    assert!(connections >= 9, "only {connections} connections found");

    // Mutations: one argument, `input`, of a non-null input object (logout needs none); the
    // result is a non-null payload object with `userErrors`.
    for field in schema["mutationType"]["fields"].as_array().expect("fields") {
        let name = field["name"].as_str().expect("name");
        let args = field["args"].as_array().expect("args");
        if name == "logout" {
            assert!(args.is_empty(), "logout takes nothing");
        } else {
            assert_eq!(args.len(), 1, "Mutation.{name} takes one argument");
            assert_eq!(args[0]["name"], "input", "Mutation.{name}");
            assert_eq!(args[0]["type"]["kind"], "NON_NULL", "Mutation.{name}");
            assert_eq!(
                args[0]["type"]["ofType"]["kind"], "INPUT_OBJECT",
                "Mutation.{name}"
            );
        }
        assert_eq!(field["type"]["kind"], "NON_NULL", "Mutation.{name}");
        let (payload, _) = named(&field["type"]);
        assert!(
            payload.ends_with("Payload"),
            "Mutation.{name} returns {payload}"
        );
        let user_errors = fields_of(&payload)
            .into_iter()
            .find(|f| f["name"] == "userErrors")
            .unwrap_or_else(|| panic!("{payload} has no userErrors"));
        assert_eq!(named(&user_errors["type"]), ("UserError".to_owned(), true));
    }
}
