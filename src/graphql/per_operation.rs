//! What each request needs once its document is parsed, done once per request rather than per
//! field: data loaders that cache only within a query, and a response written in the order the
//! fields were requested.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, ServerResult, Variables};

use super::field_order;
use super::loaders;

pub struct PerOperation;

impl ExtensionFactory for PerOperation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerOperationRequest::default())
    }
}

/// One request's parsed document and variables, kept from parsing for execution.
#[derive(Default)]
struct PerOperationRequest {
    parsed: Mutex<Option<(ExecutableDocument, Variables)>>,
}

#[async_trait::async_trait]
impl Extension for PerOperationRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Ok(mut parsed) = self.parsed.lock() {
            *parsed = Some((document.clone(), variables.clone()));
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let parsed = self.parsed.lock().ok().and_then(|mut parsed| parsed.take());
        let is_mutation = parsed.as_ref().is_some_and(|(document, _)| {
            document
                .operations
                .iter()
                .find(|(name, _)| {
                    operation_name
                        .is_none_or(|wanted| name.is_some_and(|name| name.as_str() == wanted))
                })
                .is_some_and(|(_, operation)| operation.node.ty == OperationType::Mutation)
        });
        if is_mutation {
            // A query reads one moment, so its loaders may cache for the whole request; a
            // document of several mutations changes data between fields, and the second must
            // not be shown what the first read before it wrote.
            loaders::disable_caches(ctx);
        }
        let mut response = next.run(ctx, operation_name).await;
        if let Some((document, variables)) = &parsed {
            field_order::reorder(&mut response.data, document, operation_name, variables);
        }
        response
    }
}
