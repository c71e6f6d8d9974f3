#[kotori::handler]
async fn show(a: &mut kotori::Ctx<()>, b: &mut kotori::Ctx<()>) -> String {
    format!("{}{}", a.path(), b.path())
}

fn main() {}
