//! What a document must pass before the GraphQL engine touches it.
//!
//! async-graphql recurses over value literals without a bound (a list nested a few thousand deep
//! overflows a worker's stack and aborts the process), expands fragment spreads without
//! memoising while it checks depth and validates (fragments that each spread the next one twice
//! grow exponentially), and charges `__typename` no complexity. So every request is admitted
//! here first, in time linear in its size:
//!
//! 1. the raw text: at most `max_document_bytes` long (the parser costs by the byte, and is not
//!    fast), and brackets of any kind nested at most `max_recursive_depth` deep (strings and
//!    comments skipped), before the parser recurses over it;
//! 2. the variables: the same nesting bound;
//! 3. the parsed document: fields (every one, `__typename` included, and every fragment spread or
//!    inline fragment, argument, directive and variable definition: each can fail validation and
//!    add an error to the response) and aliases are counted with
//!    each fragment spread replaced by its fragment's memoised count, across every operation, and
//!    refused over `max_fields` or `max_aliases`; fragment cycles are refused here too;
//! 4. expensive fields: at most one field per document that hashes a password, and at most one
//!    audit-chain verification.
//!
//! Subscriptions are refused here too (none are offered). Refusals are `BAD_USER_INPUT` errors naming the limit, raised before any resolver runs.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Name, Request, ServerError, Value, Variables};

use super::QueryLimits;

/// Root fields that run PBKDF2 (hundreds of milliseconds of a core each at the production
/// setting): one per document, so a document cannot buy many hashes for the price of one request.
pub const PASSWORD_HASHING_FIELDS: &[&str] =
    &["login", "changePassword", "inviteUser", "resetUserPassword"];

/// Reads the organisation's whole audit chain: once per document.
pub const CHAIN_VERIFYING_FIELDS: &[&str] = &["verifyAuditChain"];

/// Admits `request` or says why not. Parses the document once; the engine reuses that parse.
pub fn admit(request: &mut Request, limits: &QueryLimits) -> Result<(), ServerError> {
    if request.query.len() > limits.document_bytes {
        return Err(refusal(format!(
            "the document is {} bytes long; at most {} are accepted (send large inputs as variables)",
            request.query.len(),
            limits.document_bytes
        )));
    }
    check_text_nesting(&request.query, limits.recursive_depth)?;
    check_variables_nesting(&request.variables, limits.recursive_depth)?;
    // A syntax error keeps where in the document it was found.
    let document = request.parsed_query().map_err(|error| ServerError {
        locations: error.locations,
        ..refusal(error.message)
    })?;
    if document
        .operations
        .iter()
        .any(|(_, operation)| operation.node.ty == OperationType::Subscription)
    {
        return Err(refusal(
            "subscriptions are not offered: send queries and mutations".into(),
        ));
    }
    check_document(document, limits)
}

fn refusal(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", crate::error::ErrorCode::BadUserInput.as_str());
    error.extensions = Some(extensions);
    error
}

/// Refuses text whose brackets (`{`, `[`, `(`) nest deeper than `max_depth`, without parsing it.
pub fn check_text_nesting(query: &str, max_depth: usize) -> Result<(), ServerError> {
    let bytes = query.as_bytes();
    let mut depth = 0_usize;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'#' => {
                while index < bytes.len() && bytes[index] != b'\n' && bytes[index] != b'\r' {
                    index += 1;
                }
            }
            b'"' if bytes[index..].starts_with(b"\"\"\"") => {
                index += 3;
                while index < bytes.len() && !bytes[index..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string.
                    index += if bytes[index..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                index += 2;
            }
            b'"' => {
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' && bytes[index] != b'\n' {
                    index += if bytes[index] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max_depth {
                    return Err(refusal(format!(
                        "the document nests deeper than {max_depth} levels"
                    )));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        index += 1;
    }
    Ok(())
}

/// Refuses variables nested deeper than `max_depth` (lists and objects).
fn check_variables_nesting(variables: &Variables, max_depth: usize) -> Result<(), ServerError> {
    // Iterative, so the check itself cannot be what overflows.
    let mut pending: Vec<(&Value, usize)> = variables.values().map(|value| (value, 1)).collect();
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::List(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth > max_depth {
            return Err(refusal(format!(
                "the variables nest deeper than {max_depth} levels"
            )));
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}

/// What a selection set costs once every fragment spread in it is expanded.
#[derive(Clone, Copy, Default)]
struct Cost {
    fields: u64,
    aliases: u64,
    password_hashes: u64,
    chain_verifications: u64,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.password_hashes = self.password_hashes.saturating_add(other.password_hashes);
        self.chain_verifications = self
            .chain_verifications
            .saturating_add(other.chain_verifications);
    }
}

/// Counts the document's expanded cost and refuses it over the limits.
pub fn check_document(
    document: &ExecutableDocument,
    limits: &QueryLimits,
) -> Result<(), ServerError> {
    let mut counter = Counter {
        document,
        fragments: HashMap::new(),
    };
    let mut total = Cost::default();
    for (_, operation) in document.operations.iter() {
        let declared = operation.node.variable_definitions.len() + operation.node.directives.len();
        total.add(Cost {
            fields: declared as u64,
            ..Cost::default()
        });
        total.add(counter.selection_set(&operation.node.selection_set.node, 0)?);
    }
    for fragment in document.fragments.values() {
        total.add(Cost {
            fields: fragment.node.directives.len() as u64,
            ..Cost::default()
        });
    }
    if total.fields > limits.fields as u64 {
        return Err(refusal(format!(
            "the document selects {} fields, fragments, arguments and directives once its fragments are expanded; at most {} are accepted",
            total.fields, limits.fields
        )));
    }
    if total.aliases > limits.aliases as u64 {
        return Err(refusal(format!(
            "the document uses {} aliases once its fragments are expanded; at most {} are accepted",
            total.aliases, limits.aliases
        )));
    }
    if total.password_hashes > 1 {
        return Err(refusal(format!(
            "a document may contain at most one of {}",
            PASSWORD_HASHING_FIELDS.join(", ")
        )));
    }
    if total.chain_verifications > 1 {
        return Err(refusal(format!(
            "a document may contain {} at most once",
            CHAIN_VERIFYING_FIELDS.join(", ")
        )));
    }
    Ok(())
}

/// Where a fragment's cost stands: being counted (a spread reaching it again is a cycle) or known.
#[derive(Clone, Copy)]
enum Memo {
    InProgress,
    Done(Cost),
}

struct Counter<'a> {
    document: &'a ExecutableDocument,
    fragments: HashMap<&'a Name, Memo>,
}

impl<'a> Counter<'a> {
    /// The cost of `set` with spreads expanded. `depth` counts nested fragments, which the text
    /// nesting bound keeps far from the stack's limit (each fragment is counted once).
    fn selection_set(&mut self, set: &'a SelectionSet, depth: usize) -> Result<Cost, ServerError> {
        let mut cost = Cost::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    // Arguments and directives count too: each can fail validation on its own,
                    // and each failure is an error in the response.
                    let parts = field.node.arguments.len() + field.node.directives.len();
                    cost.add(Cost {
                        fields: 1 + parts as u64,
                        aliases: u64::from(field.node.alias.is_some()),
                        password_hashes: u64::from(PASSWORD_HASHING_FIELDS.contains(&name)),
                        chain_verifications: u64::from(CHAIN_VERIFYING_FIELDS.contains(&name)),
                    });
                    cost.add(self.selection_set(&field.node.selection_set.node, depth)?);
                }
                // Fragments count as selections themselves: a chain of spreads that ends in
                // nothing (an unknown fragment) still costs every walk that expands it.
                Selection::InlineFragment(inline) => {
                    cost.add(Cost {
                        fields: 1 + inline.node.directives.len() as u64,
                        ..Cost::default()
                    });
                    cost.add(self.selection_set(&inline.node.selection_set.node, depth)?);
                }
                Selection::FragmentSpread(spread) => {
                    cost.add(Cost {
                        fields: 1 + spread.node.directives.len() as u64,
                        ..Cost::default()
                    });
                    cost.add(self.fragment(&spread.node.fragment_name.node, depth + 1)?);
                }
            }
        }
        Ok(cost)
    }

    fn fragment(&mut self, name: &'a Name, depth: usize) -> Result<Cost, ServerError> {
        match self.fragments.get(name) {
            Some(Memo::Done(cost)) => return Ok(*cost),
            Some(Memo::InProgress) => {
                return Err(refusal(format!("fragment \"{name}\" spreads itself")));
            }
            None => {}
        }
        // An unknown fragment costs nothing here; validation reports it.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Cost::default());
        };
        if depth > MAX_FRAGMENT_CHAIN {
            return Err(refusal(format!(
                "fragments spread each other more than {MAX_FRAGMENT_CHAIN} deep"
            )));
        }
        self.fragments.insert(name, Memo::InProgress);
        let cost = self.selection_set(&fragment.node.selection_set.node, depth)?;
        self.fragments.insert(name, Memo::Done(cost));
        Ok(cost)
    }
}

/// Longest chain of fragments spreading fragments: the counter recurses along it, and no real
/// document comes close.
const MAX_FRAGMENT_CHAIN: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> QueryLimits {
        QueryLimits::default()
    }

    fn check(query: &str) -> Result<(), String> {
        let mut request = Request::new(query);
        admit(&mut request, &limits()).map_err(|err| err.message)
    }

    #[test]
    fn nesting_is_bounded_outside_strings_and_comments() {
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(5000), "]".repeat(5000));
        assert!(check(&deep).expect_err("deep").contains("nests deeper"));
        let quoted = format!(
            "{{ a(x: \"{}\", y: \"\"\"{}\\\"\"\"{}\"\"\") }} # {}",
            "[".repeat(100),
            "{".repeat(100),
            "(".repeat(100),
            "[".repeat(100)
        );
        check_text_nesting(&quoted, 32).expect("brackets in strings and comments do not count");
    }

    #[test]
    fn fragment_bombs_are_counted_without_expanding_them() {
        let mut query = String::from("query { ...F0 }\n");
        for level in 0..40 {
            let next = level + 1;
            query.push_str(&format!(
                "fragment F{level} on Query {{ ...F{next} ...F{next} }}\n"
            ));
        }
        query.push_str("fragment F40 on Query { __typename }\n");
        let message = check(&query).expect_err("bomb");
        assert!(
            message.contains("once its fragments are expanded"),
            "{message}"
        );
        // A bomb whose last fragment selects nothing the engine knows costs its spreads.
        let hollow = query.replace(
            "fragment F40 on Query { __typename }",
            "fragment F40 on Query { ...Nowhere }",
        );
        assert!(check(&hollow).is_err());
    }

    #[test]
    fn typename_counts_and_aliases_are_capped() {
        let many: String = (0..1001).map(|n| format!(" t{n}: __typename")).collect();
        assert!(check(&format!("{{{many} }}")).is_err());
        let aliased: String = (0..101).map(|n| format!(" t{n}: __typename")).collect();
        let message = check(&format!("{{{aliased} }}")).expect_err("aliases");
        assert!(message.contains("aliases"), "{message}");
        let plain: String = (0..100).map(|n| format!(" t{n}: __typename")).collect();
        check(&format!("{{{plain} }}")).expect("at the limit");
    }

    #[test]
    fn one_password_hash_per_document() {
        let query = "mutation { a: login(input: {}) { user { id } } ...M }
                     fragment M on Mutation { changePassword(input: {}) { user { id } } }";
        assert!(check(query).expect_err("two").contains("at most one"));
        assert!(
            check("query { a: verifyAuditChain { intact } b: verifyAuditChain { intact } }")
                .is_err()
        );
        check("mutation { login(input: {}) { user { id } } }").expect("one");
    }

    #[test]
    fn cycles_are_refused() {
        let query = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(check(query).expect_err("cycle").contains("spreads itself"));
    }

    #[test]
    fn deep_variables_are_refused() {
        let mut value = serde_json::json!(1);
        for _ in 0..100 {
            value = serde_json::json!([value]);
        }
        let mut request = Request::new("query ($v: Int) { health { status } }")
            .variables(Variables::from_json(serde_json::json!({ "v": value })));
        let err = admit(&mut request, &limits()).expect_err("deep variables");
        assert!(err.message.contains("variables nest"), "{}", err.message);
    }
}
