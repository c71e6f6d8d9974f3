//! Compile-fail tests: every signature the macros refuse gets an error that points at the
//! offending part and says how to fix it. The expected messages are the `.stderr` files in
//! `tests/ui/` (regenerate with `TRYBUILD=overwrite cargo test -p kotori --test ui`).

#[test]
fn refused_signatures_explain_themselves() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
