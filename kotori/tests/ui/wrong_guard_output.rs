#[kotori::guard]
fn check() -> u32 {
    7
}

fn main() {
    let app = kotori::Kotori::new(());
    app.guard(check);
}
