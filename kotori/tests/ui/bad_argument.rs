#[kotori::guard(title = "x")]
fn check() {}

fn main() {}
