//! The mistakes Rust refuses to compile, each with the compiler's output committed beside
//! it (`tests/compile_fail/*.stderr`), so a change in the compiler's wording shows here.
//! After a toolchain update, review the new wording and record it with
//! `TRYBUILD=overwrite cargo test -p pitfalls --test compile_errors`.

#[test]
fn mistakes_the_compiler_refuses() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
