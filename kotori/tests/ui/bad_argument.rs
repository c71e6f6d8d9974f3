#[kotori::hook(title = "x")]
fn check() {}

fn main() {}
