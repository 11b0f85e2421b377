//! `schema.graphql` is generated from the code; this fails when they drift.

#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    let from_code = vaskem::graphql::sdl();
    assert!(
        on_disk == from_code,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}
