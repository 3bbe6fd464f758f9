//! Mistakes in an `#[interface]` trait are compile errors at the user's own
//! span that say what to write instead; each message is pinned here.

#[test]
fn interface_mistakes_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
