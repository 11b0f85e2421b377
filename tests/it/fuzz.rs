//! Fuzzes the request path (admission, parse, validation, execution) with generated documents.
//!
//! Each case is a list of numbers that a generator reads as choices: which root field, which
//! arguments and values, aliases, directives, fragments, variables, taken from the live schema's
//! SDL; then, sometimes, a mutation of the text (truncated, garbage inserted, brackets nested past
//! the bound, alias floods, fragment chains, unicode) and of the transport (GET or POST, odd
//! variables JSON, bodies that are no GraphQL request). proptest shrinks a failing case towards
//! fewer, smaller choices, so the document reported is close to minimal.
//!
//! Every answer must be below 500, be JSON, and carry only errors with a known `extensions.code`,
//! never `INTERNAL`; `/healthz` must still answer afterwards.
//!
//! `VASKEM_FUZZ_CASES` sets the number of cases (default 200, for CI), `VASKEM_FUZZ_SEED` replays
//! a run (the seed is printed), `VASKEM_FUZZ_BACKEND=postgres` runs on PostgreSQL.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    BaseType, FieldDefinition, Type, TypeKind, TypeSystemDefinition,
};
use proptest::collection::vec;
use proptest::prelude::any;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{Value, json};
use vaskem::auth::session::SESSION_COOKIE;

use crate::support::{Backend, Session, TestApp};

const CODES: &[&str] = &[
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "INTERNAL",
];

/// Root fields the signed-in fuzzer leaves out: they end its own session, and every later case
/// would then be anonymous.
const SESSION_ENDING: &[&str] = &["logout", "revokeSession"];

#[test]
fn generated_documents_never_crash_or_fail_internally() {
    let cases: u32 = env_number("VASKEM_FUZZ_CASES").unwrap_or(200);
    let seed = env_number("VASKEM_FUZZ_SEED").unwrap_or_else(rand_seed);
    let backend = match std::env::var("VASKEM_FUZZ_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    println!(
        "fuzz: {cases} cases on {backend:?}, seed {seed} (replay with VASKEM_FUZZ_SEED={seed})"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let checks = crate::support::Checks::begin();
    let fixture = runtime.block_on(Fixture::start(backend));
    let model = Model::from_sdl(&vaskem::graphql::sdl());

    let mut seed_bytes = [0_u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        // Nothing is written into the repository; the printed seed replays a run.
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let stats = Mutex::new(Stats::default());
    let started = Instant::now();
    let outcome = runner.run(&vec(any::<u32>(), 0..400), |choices| {
        let case = Generator::new(&model, &fixture.ids, &choices).case();
        let answer = runtime.block_on(fixture.send(&case));
        let verdict = judge(&answer);
        if let Ok(mut stats) = stats.lock() {
            stats.count(&answer);
        }
        verdict.map_err(|why| {
            TestCaseError::fail(format!(
                "{why}\n--- request ({}) ---\n{}\n--- response ---\n{}",
                case.describe(),
                case.show(),
                answer.show()
            ))
        })
    });
    let elapsed = started.elapsed();
    if let Ok(stats) = stats.lock() {
        println!(
            "fuzz: {} requests in {:.1} s; statuses {:?}; error codes {:?}",
            stats.requests,
            elapsed.as_secs_f64(),
            stats.statuses,
            stats.codes
        );
    }
    runtime.block_on(fixture.still_healthy());
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, _)) => panic!("fuzz seed {seed}: {reason}"),
        Err(TestError::Abort(reason)) => panic!("fuzz seed {seed} aborted: {reason}"),
    }
    // Whatever the generated mutations did, the ledger and the audit chain still hold.
    runtime.block_on(checks.finish());
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn rand_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or_default();
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// The app, a signed-in administrator, and ids of real objects for the generator to use.
struct Fixture {
    app: TestApp,
    session: Session,
    ids: Vec<String>,
    client: reqwest::Client,
}

impl Fixture {
    async fn start(backend: Backend) -> Self {
        let app = TestApp::start(backend).await;
        let member = app.member_of_new_organisation("Fuzz").await;
        let stock = crate::stock::warehouse(&app, &member.session).await;
        let lot_product = crate::stock::product(&app, &member.session, "LOT-1", "LOT").await;
        let (_, body) = app
            .graphql_in(
                Some(&member.session),
                "{ roles(first: 3) { nodes { id } } auditEvents(first: 2) { nodes { id } } }",
                json!({}),
            )
            .await;
        let mut ids = vec![
            stock.warehouse,
            stock.product,
            stock.a,
            stock.b,
            lot_product,
        ];
        for list in ["roles", "auditEvents"] {
            for node in body["data"][list]["nodes"].as_array().into_iter().flatten() {
                if let Some(id) = node["id"].as_str() {
                    ids.push(id.to_owned());
                }
            }
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Self {
            app,
            session: member.session,
            ids,
            client,
        }
    }

    async fn send(&self, case: &Case) -> Answer {
        let mut request = match &case.transport {
            Transport::Post { body, content_type } => self
                .client
                .post(self.app.url("/graphql"))
                .header("content-type", content_type.as_str())
                .body(body.clone()),
            Transport::Get { params } => self
                .client
                .get(self.app.url("/graphql"))
                .query(params.as_slice()),
        };
        if case.signed_in {
            request = request.header("cookie", format!("{SESSION_COOKIE}={}", self.session.token));
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(body) => Answer::Http {
                        status,
                        body: body.to_vec(),
                    },
                    Err(err) => Answer::Broken(format!("status {status}, body unreadable: {err}")),
                }
            }
            Err(err) => Answer::Broken(clip(&err.to_string(), 300)),
        }
    }

    async fn still_healthy(&self) {
        let response = self
            .client
            .get(self.app.url("/healthz"))
            .send()
            .await
            .expect("/healthz answers after the fuzz run");
        assert_eq!(response.status(), 200, "/healthz after the fuzz run");
    }
}

enum Answer {
    Http { status: u16, body: Vec<u8> },
    Broken(String),
}

impl Answer {
    fn show(&self) -> String {
        match self {
            Answer::Http { status, body } => {
                let text = String::from_utf8_lossy(body);
                format!("HTTP {status}\n{}", clip(&text, 4_000))
            }
            Answer::Broken(why) => why.clone(),
        }
    }
}

/// Why `answer` breaks the contract, if it does.
fn judge(answer: &Answer) -> Result<(), String> {
    let (status, body) = match answer {
        Answer::Http { status, body } => (*status, body),
        Answer::Broken(why) => return Err(format!("the request got no answer: {why}")),
    };
    if status >= 500 {
        return Err(format!("HTTP {status}"));
    }
    let body: Value =
        serde_json::from_slice(body).map_err(|err| format!("the body is not JSON: {err}"))?;
    if body.get("data").is_none() && body.get("errors").is_none() {
        return Err("the body has neither data nor errors".into());
    }
    for error in body["errors"].as_array().into_iter().flatten() {
        match error["extensions"]["code"].as_str() {
            Some("INTERNAL") => return Err("an INTERNAL error".into()),
            Some(code) if CODES.contains(&code) => {}
            other => return Err(format!("an error with code {other:?}")),
        }
    }
    Ok(())
}

#[derive(Default)]
struct Stats {
    requests: u64,
    statuses: BTreeMap<u16, u64>,
    codes: BTreeMap<String, u64>,
}

impl Stats {
    fn count(&mut self, answer: &Answer) {
        self.requests += 1;
        let Answer::Http { status, body } = answer else {
            return;
        };
        *self.statuses.entry(*status).or_default() += 1;
        let body: Value = serde_json::from_slice(body).unwrap_or_default();
        let code = match body["errors"][0]["extensions"]["code"].as_str() {
            Some(code) => code.to_owned(),
            None if body["data"].is_object() => "(data, no error)".to_owned(),
            None => "(none)".to_owned(),
        };
        *self.codes.entry(code).or_default() += 1;
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// One generated request.
#[derive(Debug)]
struct Case {
    signed_in: bool,
    transport: Transport,
}

#[derive(Debug)]
enum Transport {
    Post { body: Vec<u8>, content_type: String },
    Get { params: Vec<(String, String)> },
}

impl Case {
    fn describe(&self) -> String {
        let who = if self.signed_in {
            "signed in"
        } else {
            "anonymous"
        };
        match &self.transport {
            Transport::Post { content_type, .. } => format!("POST {content_type}, {who}"),
            Transport::Get { .. } => format!("GET, {who}"),
        }
    }

    fn show(&self) -> String {
        match &self.transport {
            Transport::Post { body, .. } => clip(&String::from_utf8_lossy(body), 8_000),
            Transport::Get { params } => params
                .iter()
                .map(|(key, value)| format!("{key} = {}", clip(value, 4_000)))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// The parts of the schema a document is made of.
struct Model {
    types: HashMap<String, TypeDef>,
    object_names: Vec<String>,
}

enum TypeDef {
    /// Objects and interfaces.
    Object(Vec<FieldDef>),
    Union(Vec<String>),
    Enum(Vec<String>),
    Input(Vec<InputDef>),
    Scalar,
}

struct FieldDef {
    name: String,
    args: Vec<InputDef>,
    ty: Type,
}

struct InputDef {
    name: String,
    ty: Type,
}

impl Model {
    fn from_sdl(sdl: &str) -> Self {
        let document = async_graphql::parser::parse_schema(sdl).expect("the SDL parses");
        let mut types = HashMap::new();
        let mut object_names = Vec::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let definition = definition.node;
            let name = definition.name.node.to_string();
            let def = match definition.kind {
                TypeKind::Object(object) => {
                    object_names.push(name.clone());
                    TypeDef::Object(fields(object.fields))
                }
                TypeKind::Interface(interface) => TypeDef::Object(fields(interface.fields)),
                TypeKind::Union(union) => TypeDef::Union(
                    union
                        .members
                        .iter()
                        .map(|member| member.node.to_string())
                        .collect(),
                ),
                TypeKind::Enum(values) => TypeDef::Enum(
                    values
                        .values
                        .iter()
                        .map(|value| value.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::InputObject(input) => TypeDef::Input(
                    input
                        .fields
                        .into_iter()
                        .map(|field| InputDef {
                            name: field.node.name.node.to_string(),
                            ty: field.node.ty.node,
                        })
                        .collect(),
                ),
                TypeKind::Scalar => TypeDef::Scalar,
            };
            types.insert(name, def);
        }
        assert!(types.contains_key("Query") && types.contains_key("Mutation"));
        Self {
            types,
            object_names,
        }
    }
}

fn fields(fields: Vec<Positioned<FieldDefinition>>) -> Vec<FieldDef> {
    fields
        .into_iter()
        .map(|field| FieldDef {
            name: field.node.name.node.to_string(),
            args: field
                .node
                .arguments
                .into_iter()
                .map(|arg| InputDef {
                    name: arg.node.name.node.to_string(),
                    ty: arg.node.ty.node,
                })
                .collect(),
            ty: field.node.ty.node,
        })
        .collect()
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// Scalars and literals that have broken parsers and coercions elsewhere.
const ODD_LITERALS: &[&str] = &[
    "null",
    "\"\"",
    "0",
    "-0",
    "1.5",
    "1e400",
    "-1e400",
    "123456789012345678901234567890",
    "-9223372036854775809",
    "18446744073709551616",
    "2147483648",
    "true",
    "SOME_ENUM",
    "[]",
    "{}",
    "[null]",
    "{a: 1}",
    "\"\\u0000\"",
    "\"\\uD83D\"",
    "\"😀\"",
    "\"\"\"block\n\"\"\"",
    "$undeclared",
];

const STRINGS: &[&str] = &[
    "",
    "x",
    "SKU-1",
    "A-01-01",
    "none",
    "lot",
    "serial",
    "correct horse battery staple",
    "admin@example.com",
    "Ünïcödé ☃ 😀 日本語",
    "\u{202e}reversed",
    "\u{feff}bom",
    "%_\\",
    "' OR 1=1 --",
    "\0nul",
    "line\nbreak\r\n\ttab",
    "2026-01-01",
    "2026-02-30",
    "2026-01-01T00:00:00Z",
    "not-a-date",
    "T3JnYW5pc2F0aW9uOjAx",
    "UHJvZHVjdDox",
    "eyJvIjoicHJvZHVjdHM6c2t1LGlkKyIsImsiOltdfQ",
];

const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "50",
    "100",
    "101",
    "1000000000",
    "1000000001",
    "2147483647",
    "-2147483648",
];

const GARBAGE: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "...",
    "$",
    "@",
    "\"",
    "\"\"\"",
    "#",
    ":",
    "=",
    "!",
    "|",
    "&",
    "\u{0}",
    "😀",
    "\u{202e}",
    "on",
    "fragment",
    "query",
    "mutation",
    "subscription",
    "__schema",
    "1e999999",
    "@skip(if: true)",
    "@include(if: $x)",
    "@deprecated",
    "\\",
    "\r",
    "\u{2028}",
];

/// Reads choices from the case's numbers; past the end every choice is 0, the simplest one.
struct Generator<'a> {
    model: &'a Model,
    ids: &'a [String],
    choices: &'a [u32],
    position: usize,
    signed_in: bool,
    variables: Vec<(String, String, Value)>,
    fragments: Vec<(String, String)>,
    fragment_text: String,
    aliases: usize,
}

impl<'a> Generator<'a> {
    fn new(model: &'a Model, ids: &'a [String], choices: &'a [u32]) -> Self {
        Self {
            model,
            ids,
            choices,
            position: 0,
            signed_in: false,
            variables: Vec::new(),
            fragments: Vec::new(),
            fragment_text: String::new(),
            aliases: 0,
        }
    }

    fn next(&mut self, bound: usize) -> usize {
        let value = self.choices.get(self.position).copied().unwrap_or(0);
        self.position += 1;
        if bound == 0 {
            0
        } else {
            value as usize % bound
        }
    }

    /// True `percent` times in a hundred; false once the choices have run out.
    fn chance(&mut self, percent: usize) -> bool {
        self.next(100) + percent >= 100
    }

    fn pick<'b>(&mut self, items: &'b [&'b str]) -> &'b str {
        items[self.next(items.len())]
    }

    fn case(mut self) -> Case {
        self.signed_in = !self.chance(40);
        let document = self.document();
        let document = self.mutate(document);
        let variables = self.variables_json();
        let operation_name = if self.chance(8) {
            Some(self.pick(&["Op", "", "Nope", "😀"]).to_owned())
        } else {
            None
        };
        let signed_in = self.signed_in;
        // A URL past 64 KiB is refused by the client itself, before anything is sent.
        let transport = if self.chance(15) && document.len() + variables.len() < 16_000 {
            let mut params = vec![("query".to_owned(), document)];
            if !variables.is_empty() {
                params.push(("variables".to_owned(), variables));
            }
            if let Some(name) = operation_name {
                params.push(("operationName".to_owned(), name));
            }
            if self.chance(10) {
                params.push(("extensions".to_owned(), "{\"persistedQuery\":1}".to_owned()));
            }
            Transport::Get { params }
        } else {
            self.post(document, variables, operation_name)
        };
        Case {
            signed_in,
            transport,
        }
    }

    fn post(
        &mut self,
        document: String,
        variables: String,
        operation_name: Option<String>,
    ) -> Transport {
        let query = Value::String(document).to_string();
        let mut body = format!("{{\"query\":{query}");
        if !variables.is_empty() {
            body.push_str(&format!(",\"variables\":{variables}"));
        }
        if let Some(name) = operation_name {
            body.push_str(&format!(",\"operationName\":{}", Value::String(name)));
        }
        if self.chance(5) {
            body.push_str(
                ",\"extensions\":{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"00\"}}",
            );
        }
        body.push('}');
        let mut body = body.into_bytes();
        match self.next(100) {
            0..=89 => {}
            90..=92 => {
                let cut = self.next(body.len() + 1);
                body.truncate(cut);
            }
            93 => body = format!("[{}]", String::from_utf8_lossy(&body)).into_bytes(),
            94 => body = b"\xff\xfe{\"query\":\"{ health { status } }\"}".to_vec(),
            95 => body = b"{\"query\": 42}".to_vec(),
            96 => {
                body =
                    b"{\"query\": \"{ __typename }\", \"query\": \"mutation { logout }\"}".to_vec()
            }
            97 => body = Vec::new(),
            98 => {
                let depth = [31, 32, 33, 200, 20_000][self.next(5)];
                body = format!(
                    "{{\"query\":\"{{ health {{ status }} }}\",\"variables\":{{\"v\":{}1{}}}}}",
                    "[".repeat(depth),
                    "]".repeat(depth)
                )
                .into_bytes();
            }
            _ => {
                body = format!(
                    "{{\"query\":\"query($v: Int) {{ health {{ status }} }}\",\"variables\":{{\"v\":{}}}}}",
                    self.pick(&["1e400", "123456789012345678901234567890", "-0", "\"1\"", "[1]", "{\"a\":1}", "1.0"])
                )
                .into_bytes();
            }
        }
        let content_type = if self.chance(4) {
            self.pick(&[
                "text/plain",
                "application/x-www-form-urlencoded",
                "application/json; charset=latin1",
                "APPLICATION/JSON",
            ])
            .to_owned()
        } else {
            "application/json".to_owned()
        };
        Transport::Post { body, content_type }
    }

    fn variables_json(&mut self) -> String {
        let mut object = serde_json::Map::new();
        for (name, _, value) in &self.variables {
            object.insert(name.clone(), value.clone());
        }
        match self.next(100) {
            0..=84 if object.is_empty() => String::new(),
            0..=84 => Value::Object(object).to_string(),
            85..=87 => "null".to_owned(),
            88..=89 => "\"{\\\"v0\\\": 1}\"".to_owned(),
            90 => "[1, 2]".to_owned(),
            91 => "42".to_owned(),
            92..=94 => {
                object.insert("extra".to_owned(), json!({"nested": [1, {"a": null}]}));
                Value::Object(object).to_string()
            }
            _ => {
                // Every declared variable given a value of the wrong shape.
                let odd = self.pick(&["null", "\"\"", "[]", "{}", "1e400", "true", "-1"]);
                let fields: Vec<String> = self
                    .variables
                    .iter()
                    .map(|(name, _, _)| format!("\"{name}\":{odd}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }
        }
    }

    fn document(&mut self) -> String {
        let mutation = self.chance(30);
        let root = if mutation { "Mutation" } else { "Query" };
        let selection = self.selection_set(root, 0);
        let keyword = if mutation {
            "mutation"
        } else if self.chance(10) {
            "subscription"
        } else {
            "query"
        };
        let name = if self.chance(20) { " Op" } else { "" };
        let definitions: Vec<String> = self
            .variables
            .iter()
            .map(|(name, ty, _)| format!("${name}: {ty}"))
            .collect();
        let definitions = if definitions.is_empty() {
            String::new()
        } else {
            format!("({})", definitions.join(", "))
        };
        let header = if !mutation && name.is_empty() && definitions.is_empty() && !self.chance(50) {
            String::new()
        } else {
            format!("{keyword}{name}{definitions} ")
        };
        format!("{header}{selection}{}", self.fragment_text)
    }

    fn selection_set(&mut self, type_name: &str, depth: usize) -> String {
        let mut items = Vec::new();
        let count = if self.chance(3) {
            10 + self.next(200)
        } else {
            1 + self.next(4)
        };
        for _ in 0..count {
            items.push(self.selection(type_name, depth));
        }
        format!("{{ {} }}", items.join(" "))
    }

    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        let too_deep = depth > 18;
        let choice = self.next(100);
        let fields_here: Vec<usize> = match self.model.types.get(type_name) {
            Some(TypeDef::Object(fields)) => (0..fields.len()).collect(),
            _ => Vec::new(),
        };
        if choice < 6 || (fields_here.is_empty() && choice < 60) || too_deep {
            let alias = self.alias();
            let directives = self.directives();
            return format!("{alias}__typename{directives}");
        }
        if choice < 10 {
            let target = self.fragment_target(type_name);
            let directives = self.directives();
            let inner = self.selection_set(&target, depth + 1);
            return format!("... on {target}{directives} {inner}");
        }
        if choice < 16 {
            return self.spread(type_name, depth);
        }
        if choice < 18 || fields_here.is_empty() {
            let name = self.pick(&["nope", "Ünïcödé", "_", "__schema", "__type", "node"]);
            return format!("{name} {{ __typename }}");
        }
        let index = fields_here[self.next(fields_here.len())];
        let model = self.model;
        let Some(TypeDef::Object(fields)) = model.types.get(type_name) else {
            return "__typename".to_owned();
        };
        let field = &fields[index];
        if self.signed_in && SESSION_ENDING.contains(&field.name.as_str()) {
            return "__typename".to_owned();
        }
        let (name, args, ty) = (field.name.clone(), &field.args, field.ty.clone());
        let mut arguments = Vec::new();
        for arg in args {
            let required = !arg.ty.nullable;
            if self.chance(if required { 92 } else { 45 }) {
                let value = self.value(&arg.ty, 0);
                arguments.push(format!("{}: {value}", arg.name));
            }
        }
        if self.chance(3) {
            arguments.push(format!("nope: {}", self.pick(ODD_LITERALS)));
        }
        let arguments = if arguments.is_empty() {
            String::new()
        } else {
            format!("({})", arguments.join(", "))
        };
        let alias = self.alias();
        let directives = self.directives();
        let target = named(&ty).to_owned();
        let composite = matches!(
            model.types.get(&target),
            Some(TypeDef::Object(_) | TypeDef::Union(_))
        );
        let selection = if composite != self.chance(3) {
            if composite {
                format!(" {}", self.selection_set(&target, depth + 1))
            } else {
                " { __typename }".to_owned()
            }
        } else {
            String::new()
        };
        format!("{alias}{name}{arguments}{directives}{selection}")
    }

    fn fragment_target(&mut self, type_name: &str) -> String {
        let model = self.model;
        match model.types.get(type_name) {
            Some(TypeDef::Union(members)) if !members.is_empty() && !self.chance(20) => {
                members[self.next(members.len())].clone()
            }
            _ if self.chance(25) => model.object_names[self.next(model.object_names.len())].clone(),
            _ => type_name.to_owned(),
        }
    }

    /// A spread of an existing fragment on this type, or of a new one (whose body may spread
    /// others, so chains form).
    fn spread(&mut self, type_name: &str, depth: usize) -> String {
        let existing: Vec<String> = self
            .fragments
            .iter()
            .filter(|(_, on)| on == type_name)
            .map(|(name, _)| name.clone())
            .collect();
        let directives = self.directives();
        if !existing.is_empty() && self.chance(50) {
            let name = existing[self.next(existing.len())].clone();
            return format!("...{name}{directives}");
        }
        if self.fragments.len() >= 40 {
            return "__typename".to_owned();
        }
        let name = format!("F{}", self.fragments.len());
        let on = self.fragment_target(type_name);
        self.fragments.push((name.clone(), on.clone()));
        let body = self.selection_set(&on, depth + 1);
        self.fragment_text
            .push_str(&format!("\nfragment {name} on {on} {body}"));
        format!("...{name}{directives}")
    }

    fn alias(&mut self) -> String {
        if self.chance(15) {
            self.aliases += 1;
            if self.chance(5) {
                "a0: ".to_owned()
            } else {
                format!("a{}: ", self.aliases)
            }
        } else {
            String::new()
        }
    }

    fn directives(&mut self) -> String {
        if !self.chance(8) {
            return String::new();
        }
        let count = if self.chance(10) {
            6 + self.next(40)
        } else {
            1
        };
        let mut text = String::new();
        for _ in 0..count {
            let argument = match self.next(6) {
                0 => "true".to_owned(),
                1 => "false".to_owned(),
                2 => self.pick(ODD_LITERALS).to_owned(),
                3 => self.variable("Boolean!", json!(true)),
                4 => self.variable("Boolean", Value::Null),
                _ => String::new(),
            };
            let name = self.pick(&[
                "skip",
                "include",
                "skip",
                "include",
                "deprecated",
                "requires",
                "nope",
            ]);
            if argument.is_empty() {
                text.push_str(&format!(" @{name}"));
            } else {
                text.push_str(&format!(" @{name}(if: {argument})"));
            }
        }
        text
    }

    /// Declares a variable of `ty` holding `value`; returns its reference.
    fn variable(&mut self, ty: &str, value: Value) -> String {
        let name = format!("v{}", self.variables.len());
        self.variables.push((name.clone(), ty.to_owned(), value));
        format!("${name}")
    }

    /// A literal of `ty` (mostly well typed), or a variable holding such a value.
    fn value(&mut self, ty: &Type, depth: usize) -> String {
        if self.chance(4) {
            return self.pick(ODD_LITERALS).to_owned();
        }
        if depth < 2 && self.chance(10) {
            let json = self.json_value(ty, depth);
            return self.variable(&ty.to_string(), json);
        }
        if ty.nullable && self.chance(5) {
            return "null".to_owned();
        }
        match &ty.base {
            BaseType::List(inner) => {
                if self.chance(20) {
                    return self.value(inner, depth + 1);
                }
                let count = self.next(4);
                let items: Vec<String> = (0..count).map(|_| self.value(inner, depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            BaseType::Named(name) => self.named_value(name.as_str(), depth),
        }
    }

    fn named_value(&mut self, name: &str, depth: usize) -> String {
        let model = self.model;
        match name {
            "Int" => self.pick(INTS).to_owned(),
            "Float" => self.pick(&["0.0", "1.5", "-1", "1e308", "3"]).to_owned(),
            "Boolean" => self.pick(&["true", "false"]).to_owned(),
            "ID" => {
                if !self.ids.is_empty() && self.chance(70) {
                    let index = self.next(self.ids.len());
                    Value::String(self.ids[index].clone()).to_string()
                } else {
                    Value::String(self.pick(STRINGS).to_owned()).to_string()
                }
            }
            "JSON" => self
                .pick(&["{a: [1, 2, {b: null}]}", "\"x\"", "1"])
                .to_owned(),
            _ => match model.types.get(name) {
                Some(TypeDef::Enum(values)) if !values.is_empty() => {
                    values[self.next(values.len())].clone()
                }
                Some(TypeDef::Input(fields)) if depth < 6 => {
                    let mut parts = Vec::new();
                    for field in fields {
                        if self.chance(if field.ty.nullable { 45 } else { 92 }) {
                            let value = self.value(&field.ty, depth + 1);
                            parts.push(format!("{}: {value}", field.name));
                        }
                    }
                    format!("{{{}}}", parts.join(", "))
                }
                _ => {
                    if self.chance(70) {
                        Value::String(self.pick(STRINGS).to_owned()).to_string()
                    } else {
                        let long = "ä".repeat(1 + self.next(3_000));
                        Value::String(long).to_string()
                    }
                }
            },
        }
    }

    /// A JSON value for a variable of `ty`.
    fn json_value(&mut self, ty: &Type, depth: usize) -> Value {
        let model = self.model;
        if self.chance(5) {
            return json!(null);
        }
        match &ty.base {
            BaseType::List(inner) => {
                let count = self.next(4);
                Value::Array(
                    (0..count)
                        .map(|_| self.json_value(inner, depth + 1))
                        .collect(),
                )
            }
            BaseType::Named(name) => match name.as_str() {
                "Int" => {
                    let ints = [
                        0,
                        1,
                        -1,
                        100,
                        101,
                        2_147_483_647_i64,
                        2_147_483_648,
                        1_000_000_001,
                    ];
                    json!(ints[self.next(ints.len())])
                }
                "Float" => json!(1.5),
                "Boolean" => json!(self.chance(50)),
                "ID" if !self.ids.is_empty() && self.chance(70) => {
                    let index = self.next(self.ids.len());
                    json!(self.ids[index])
                }
                "JSON" => json!({"a": [1, {"b": null}]}),
                other => match model.types.get(other) {
                    Some(TypeDef::Enum(values)) if !values.is_empty() => {
                        json!(values[self.next(values.len())])
                    }
                    Some(TypeDef::Input(fields)) if depth < 6 => {
                        let mut object = serde_json::Map::new();
                        for field in fields {
                            if self.chance(if field.ty.nullable { 45 } else { 92 }) {
                                let value = self.json_value(&field.ty, depth + 1);
                                object.insert(field.name.clone(), value);
                            }
                        }
                        Value::Object(object)
                    }
                    _ => json!(self.pick(STRINGS)),
                },
            },
        }
    }

    /// Leaves the text as generated most of the time; otherwise breaks it one of several ways.
    fn mutate(&mut self, document: String) -> String {
        let at = |document: &str, position: usize| {
            let mut position = position.min(document.len());
            while !document.is_char_boundary(position) {
                position -= 1;
            }
            position
        };
        match self.next(100) {
            0..=59 => document,
            60..=64 => {
                let cut = at(&document, self.next(document.len() + 1));
                document[..cut].to_owned()
            }
            65..=72 => {
                let mut document = document;
                for _ in 0..1 + self.next(3) {
                    let position = at(&document, self.next(document.len() + 1));
                    let token = self.pick(GARBAGE);
                    document.insert_str(position, token);
                }
                document
            }
            73..=75 => {
                let start = at(&document, self.next(document.len() + 1));
                let end = at(&document, start + self.next(40));
                format!("{}{}", &document[..start], &document[end..])
            }
            76..=79 => {
                // Brackets nested around the bound of 32, or far past it.
                let depth = [30, 31, 32, 33, 100, 5_000][self.next(6)];
                let (open, close) = match self.next(4) {
                    0 => ("[".repeat(depth), "]".repeat(depth)),
                    1 => ("{a: ".repeat(depth), "}".repeat(depth)),
                    2 => ("{ a ".repeat(depth), "}".repeat(depth)),
                    _ => ("(".repeat(depth), ")".repeat(depth)),
                };
                match self.next(3) {
                    0 => format!("{{ health(x: {open}1{close}) {{ status }} }}"),
                    1 => format!("{{ health {{ status {open} x {close} }} }}"),
                    _ => {
                        let position = at(&document, self.next(document.len() + 1));
                        format!(
                            "{}{open}1{close}{}",
                            &document[..position],
                            &document[position..]
                        )
                    }
                }
            }
            80..=83 => {
                let count = [99, 100, 101, 999, 1_000, 1_001, 5_000][self.next(7)];
                let aliased = self.chance(50);
                let field = self.pick(&[
                    "__typename",
                    "health { status }",
                    "me { id }",
                    "products(first: 100) { nodes { sku } }",
                ]);
                let items: String = (0..count)
                    .map(|n| {
                        if aliased {
                            format!(" a{n}: {field}")
                        } else {
                            format!(" {field}")
                        }
                    })
                    .collect();
                format!("{{{items} }}")
            }
            84..=86 => {
                let levels = [5, 9, 10, 30, 64, 65, 70][self.next(7)];
                let twice = self.chance(50);
                let mut text = String::from("query { ...F0 }\n");
                for level in 0..levels {
                    let next = level + 1;
                    let spreads = if twice {
                        format!("...F{next} ...F{next}")
                    } else {
                        format!("...F{next} __typename")
                    };
                    text.push_str(&format!("fragment F{level} on Query {{ {spreads} }}\n"));
                }
                let last = if self.chance(20) {
                    "...F0"
                } else {
                    "health { status }"
                };
                text.push_str(&format!("fragment F{levels} on Query {{ {last} }}\n"));
                text
            }
            87..=89 => format!("{document}\n{document}"),
            90..=94 => {
                let mut chars: Vec<char> = document.chars().collect();
                if !chars.is_empty() {
                    let index = self.next(chars.len());
                    chars[index] = [
                        '\u{0}', '\u{feff}', 'é', '😀', '\u{202e}', '\r', '\u{2028}', '\u{ffff}',
                    ][self.next(8)];
                }
                chars.into_iter().collect()
            }
            95..=96 => {
                let padding = "# comment\n".repeat(self.next(2_000));
                format!("{padding}{document}{}", " ".repeat(self.next(10_000)))
            }
            _ => {
                // Inline fragments on the root nested around the bracket bound, around a real path.
                let depth = 24 + self.next(10);
                format!(
                    "{{ {}stockOnHand {{ nodes {{ location {{ warehouse {{ id }} }} }} }}{} }}",
                    "... on Query { ".repeat(depth),
                    " }".repeat(depth)
                )
            }
        }
    }
}
