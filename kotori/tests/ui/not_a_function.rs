#[kotori::hook]
struct Check;

fn main() {}
