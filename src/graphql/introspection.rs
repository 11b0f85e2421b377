//! Refuses schema introspection to anonymous callers with a clear UNAUTHENTICATED error.
//!
//! async-graphql's `disable_introspection` answers `__schema` with a silent `null`; a client
//! deserves to know why.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

use crate::error::ErrorCode;

pub struct AnonymousIntrospectionGate;

impl ExtensionFactory for AnonymousIntrospectionGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AnonymousIntrospectionGate)
    }
}

#[async_trait::async_trait]
impl Extension for AnonymousIntrospectionGate {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let asks = document
            .operations
            .iter()
            .any(|(_, operation)| introspects(&operation.node.selection_set.node))
            || document
                .fragments
                .values()
                .any(|fragment| introspects(&fragment.node.selection_set.node));
        if asks {
            let mut error = ServerError::new("introspection requires a signed-in session", None);
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", ErrorCode::Unauthenticated.as_str());
            return Err(error);
        }
        Ok(document)
    }
}

fn introspects(selection_set: &SelectionSet) -> bool {
    selection_set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            matches!(field.node.name.node.as_str(), "__schema" | "__type")
                || introspects(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => introspects(&fragment.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}
