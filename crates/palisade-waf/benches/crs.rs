//! Criterion bench placeholder replaced below.
fn main() {}
