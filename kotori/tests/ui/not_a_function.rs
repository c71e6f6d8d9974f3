#[kotori::guard]
struct Check;

fn main() {}
