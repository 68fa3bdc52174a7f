//! The attribute's compile errors: each case under `compile_fail/` must fail to build,
//! with the error its `.stderr` file holds, pointing at the offending token.

#[test]
fn compile_errors_point_at_the_offending_token() {
    trybuild::TestCases::new().compile_fail("tests/compile_fail/*.rs");
}
